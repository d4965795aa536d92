/* hooks: not written yet. */
