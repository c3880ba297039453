/* The executor's own declarations: one backend object per
 * pkgmgr_<name>.c, listed in pkgmgr.c. */
#ifndef PATCHWARDEN_EXECUTOR_INTERNAL_H
#define PATCHWARDEN_EXECUTOR_INTERNAL_H

#include "patchwarden/pkgmgr.h"

#endif
