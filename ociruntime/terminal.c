/* terminal: not written yet. */
