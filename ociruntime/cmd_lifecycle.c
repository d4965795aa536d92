/* cmd_lifecycle: not written yet. */
