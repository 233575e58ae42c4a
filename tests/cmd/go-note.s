# go-note.s - Go's build-ID note alone (name "Go", type 4), for objcopy.
	.section .note.go.buildid,"",@note
	.balign 4
	.long 3
	.long 8
	.long 4
	.asciz "Go"
	.balign 4
	.ascii "kashimid"
	.balign 4
