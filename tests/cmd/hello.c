/* hello.c - a program that does nothing; built static, or with a Go note. */
int main(void)
{
	return 0;
}
