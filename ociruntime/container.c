/* container: not written yet. */
