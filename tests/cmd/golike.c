/*
 * golike.c - a dynamic program that carries Go's build-ID note (name
 * "Go\0\0", name size 4, type 4) in an allocated note section, as the
 * Go linker emits it, so the linker puts it in a PT_NOTE segment.
 */
__asm__(".pushsection .note.go.buildid,\"a\",@note\n"
	".balign 4\n"
	".long 4\n"  /* namesz: "Go" and two NULs, as Go writes it */
	".long 8\n"  /* descsz */
	".long 4\n"  /* type: Go build ID */
	".ascii \"Go\\0\\0\"\n"
	".balign 4\n"
	".ascii \"kashimid\"\n"
	".balign 4\n"
	".popsection\n");

int main(void)
{
	return 0;
}
