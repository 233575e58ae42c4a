/* other.c - another preload library, which kashim must keep in LD_PRELOAD. */
int kashim_test_other_marker(void)
{
	return 42;
}
