/* namespaces: not written yet. */
