/* Shared between the feed store (feedstore.c), its schema
 * (feedstore_schema.c) and the path walker (feed_import.c). Not public:
 * front ends use include/patchwarden/feedstore.h. */
#ifndef PATCHWARDEN_FEEDSTORE_INTERNAL_H
#define PATCHWARDEN_FEEDSTORE_INTERNAL_H

#include <stddef.h>

#include "patchwarden/db.h"
#include "patchwarden/feedstore.h"

/* The "feeds" component's numbered migrations, oldest first. Append only. */
extern const pw_migration pw_feedstore_migrations[];
extern const size_t pw_feedstore_n_migrations;

/* Hooks the walker uses to account for what it reads. */
void pw_feed_import_count_file(pw_feed_import *imp);
/* Counts a warning and passes it to the caller's warn callback. */
void pw_feed_import_warn(pw_feed_import *imp, const char *where, const char *message);
/* The same for a malformed file or record left out whole (stats.skipped). */
void pw_feed_import_skip(pw_feed_import *imp, const char *where, const char *message);
void pw_feed_import_progress(pw_feed_import *imp, size_t done, size_t total, const char *current);
/* Names the input being parsed, for warnings the store itself raises
 * (a record the parser accepted but the store cannot keep). NULL clears. */
void pw_feed_import_set_current(pw_feed_import *imp, const char *name);

#endif
