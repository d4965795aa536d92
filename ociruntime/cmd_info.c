/* cmd_info: not written yet. */
