/* cmd_spec: not written yet. */
