/* ENDBR64 helpers of the patchbot example tree. */
#ifndef __ASM_X86_ENDBR_H__
#define __ASM_X86_ENDBR_H__

#define ENDBR64_LEN 4

static inline bool is_endbr64(const void *ptr)
{
    return *(const unsigned int *)ptr == 0xfa1e0ff3U;
}

#endif /* __ASM_X86_ENDBR_H__ */
