#include "executor-internal.h"
const pw_pkgmgr pw_pkgmgr_apk = {.name = "apk", .os_ids = "alpine"};
