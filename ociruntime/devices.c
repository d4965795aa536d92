/* devices: not written yet. */
