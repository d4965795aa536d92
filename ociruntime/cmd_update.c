/* cmd_update: not written yet. */
