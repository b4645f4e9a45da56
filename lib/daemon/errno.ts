/**
 * Linux errno values (asm-generic/errno-base.h, errno.h) that protomask tells apart. They live in
 * lib/ because the `TunDevice` contract returns them negated (`-EAGAIN`), so the pure packet loop
 * and the test fake need them as much as `ffi/` does.
 *
 * @module
 */

/** Operation not permitted. */
export const EPERM = 1;
/** No such file or directory. */
export const ENOENT = 2;
/** Interrupted system call. */
export const EINTR = 4;
/** I/O error. */
export const EIO = 5;
/** Bad file descriptor. */
export const EBADF = 9;
/** Resource temporarily unavailable (non-blocking and nothing to read). */
export const EAGAIN = 11;
/** Bad address. */
export const EFAULT = 14;
/** Permission denied. */
export const EACCES = 13;
/** Device or resource busy. */
export const EBUSY = 16;
/** File exists. */
export const EEXIST = 17;
/** No such device. */
export const ENODEV = 19;
/** Invalid argument. */
export const EINVAL = 22;
/** Connection timed out (used for netlink replies that never come). */
export const ETIMEDOUT = 110;
