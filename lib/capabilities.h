/*
 * capabilities: Linux capability names and numbers, in one table for the
 * runtime (the spec's "capabilities" sets, `exec --cap`, `features`) and the
 * engine (Docker's CapAdd/CapDrop and default set).
 */
#ifndef BERTH_CAPABILITIES_H
#define BERTH_CAPABILITIES_H

/* Capabilities this table knows: 0 .. CAPABILITY_COUNT - 1 (Linux 5.9's). */
#define CAPABILITY_COUNT 41

/* "CAP_SYS_ADMIN" (any case) → 21; -1 when unknown. */
int capability_number(const char *name);
/* 21 → "CAP_SYS_ADMIN"; NULL when out of range. */
const char *capability_name(int number);

#endif
