/* ward's vDSO image (src/vdso/vdso.so, built by the Makefile), embedded in
 * the sentry; core/vdso.c copies it into the memory file. */
	.section .rodata.ward_vdso, "a"
	.balign 4096
	.globl ward__vdso_image_start
	.hidden ward__vdso_image_start
ward__vdso_image_start:
	.incbin "src/vdso/vdso.so"
	.globl ward__vdso_image_end
	.hidden ward__vdso_image_end
ward__vdso_image_end:

	.section .note.GNU-stack, "", @progbits
