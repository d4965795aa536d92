/* exec_process: not written yet. */
