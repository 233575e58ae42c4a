/*
 * empty.c - a preloaded library that does nothing: the reference for what
 * merely loading one more library costs /bin/true (`make bench`, row 3).
 */
