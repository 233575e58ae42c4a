# go-note.s - Go's build-ID note alone (name "Go\0\0", size 4, type 4), for objcopy.
	.section .note.go.buildid,"",@note
	.balign 4
	.long 4	# namesz: "Go\0\0", as the Go linker writes it
	.long 8
	.long 4
	.ascii "Go\0\0"
	.balign 4
	.ascii "kashimid"
	.balign 4
