/* Linux calls that Swift's Glibc module does not import, as typed static inline functions. */
#ifndef FLOWSPOOL_CPOSIX_SHIM_H
#define FLOWSPOOL_CPOSIX_SHIM_H

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/ioctl.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Declared here because their headers show them only under _GNU_SOURCE, which would make this
   module's view of glibc differ from Swift's own Glibc module. */
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);
extern int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
extern int pipe2(int fds[2], int flags);
extern int syncfs(int fd);
extern char **environ;
extern int close_range(unsigned int first, unsigned int last, int flags);
extern int memfd_create(const char *name, unsigned int flags);
#define FLOWSPOOL_MFD_CLOEXEC 0x0001U
#define FLOWSPOOL_RENAME_NOREPLACE (1 << 0)
#define FLOWSPOOL_CLOSE_RANGE_CLOEXEC (1U << 2)

/* openat2(2) (Linux 5.6): opens below a directory with no symbolic link on the way. Its header
   and number are spelled out so that this module needs no kernel headers of its own. */
struct flowspool_open_how { unsigned long long flags, mode, resolve; };
#define FLOWSPOOL_RESOLVE_NO_MAGICLINKS 0x02
#define FLOWSPOOL_RESOLVE_NO_SYMLINKS 0x04
#define FLOWSPOOL_RESOLVE_BENEATH 0x08
#define FLOWSPOOL_O_PATH 010000000

static inline int flowspool_openat_beneath(int dirfd, const char *path, int flags, unsigned int mode) {
    /* openat2 refuses a mode without O_CREAT, where open(2) ignores it. */
    struct flowspool_open_how how = { (unsigned long long)flags, (flags & O_CREAT) ? mode : 0,
        FLOWSPOOL_RESOLVE_BENEATH | FLOWSPOOL_RESOLVE_NO_SYMLINKS | FLOWSPOOL_RESOLVE_NO_MAGICLINKS };
    return (int)syscall(437 /* SYS_openat2 */, dirfd, path, &how, sizeof how);
}

/* pidfd_open(2) (Linux 5.3): a descriptor that poll(2) reports readable when the process ends. */
static inline int flowspool_pidfd_open(int pid) {
    return (int)syscall(434 /* SYS_pidfd_open */, pid, 0);
}

/* open(2) and openat(2) are variadic, which Swift cannot call. */
static inline int flowspool_open(const char *path, int flags, unsigned int mode) { return open(path, flags, mode); }
static inline int flowspool_openat(int dirfd, const char *path, int flags, unsigned int mode) {
    return openat(dirfd, path, flags, mode);
}

static inline int flowspool_open_path(const char *path) {
    return open(path, FLOWSPOOL_O_PATH | O_DIRECTORY | O_CLOEXEC);
}

static inline int flowspool_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
static inline int flowspool_syncfs(int fd) { return syncfs(fd); }
static inline char **flowspool_environ(void) { return environ; }

static inline int flowspool_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

static inline int flowspool_renameat2_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return renameat2(olddirfd, oldpath, newdirfd, newpath, FLOWSPOOL_RENAME_NOREPLACE);
}

static inline int flowspool_signalfd(const sigset_t *mask) {
    return signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC);
}

static inline int flowspool_wifexited(int status) { return WIFEXITED(status); }
static inline int flowspool_wexitstatus(int status) { return WEXITSTATUS(status); }
static inline int flowspool_wifsignaled(int status) { return WIFSIGNALED(status); }
static inline int flowspool_wtermsig(int status) { return WTERMSIG(status); }

/* A message with open descriptors attached (SCM_RIGHTS): CMSG_* are macros Swift cannot call. */
#define FLOWSPOOL_MAX_PASSED_FDS 4

static inline ssize_t flowspool_send_with_fds(int socket, const void *data, size_t length, const int *fds, int count) {
    union { char buffer[CMSG_SPACE(sizeof(int) * FLOWSPOOL_MAX_PASSED_FDS)]; struct cmsghdr align; } control;
    struct iovec part = { (void *)data, length };
    struct msghdr message;
    memset(&message, 0, sizeof message);
    memset(&control, 0, sizeof control);
    if (count < 0 || count > FLOWSPOOL_MAX_PASSED_FDS) { errno = EINVAL; return -1; }
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    if (count > 0) {
        message.msg_control = control.buffer;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * count);
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(sizeof(int) * count);
        memcpy(CMSG_DATA(header), fds, sizeof(int) * count);
    }
    return sendmsg(socket, &message, MSG_NOSIGNAL);
}

static inline ssize_t flowspool_receive_with_fds(int socket, void *data, size_t capacity, int *fds, int *count) {
    union { char buffer[CMSG_SPACE(sizeof(int) * FLOWSPOOL_MAX_PASSED_FDS)]; struct cmsghdr align; } control;
    struct iovec part = { data, capacity };
    struct msghdr message;
    memset(&message, 0, sizeof message);
    message.msg_iov = &part;
    message.msg_iovlen = 1;
    message.msg_control = control.buffer;
    message.msg_controllen = sizeof control.buffer;
    *count = 0;
    ssize_t received = recvmsg(socket, &message, 0x40000000 /* MSG_CMSG_CLOEXEC */);
    if (received < 0) return received;
    for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
        if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
            int n = (int)((header->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < n; i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
                if (*count < FLOWSPOOL_MAX_PASSED_FDS) fds[(*count)++] = fd;
                else close(fd);  /* more than the caller takes: not leaked */
            }
        }
    }
    return received;
}

/* An eventfd(2) that one thread signals and another polls: close-on-exec, never blocking. */
static inline int flowspool_eventfd(void) { return eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }
static inline int flowspool_eventfd_signal(int fd) { return eventfd_write(fd, 1); }

/// Sends one datagram to the Unix socket at `path`, which names the abstract namespace when it
/// starts with '@' (as $NOTIFY_SOCKET may): sd_notify(3)'s transport, without libsystemd.
static inline ssize_t flowspool_send_datagram(const char *path, const void *data, size_t length) {
    struct sockaddr_un address;
    size_t path_length = strlen(path);
    memset(&address, 0, sizeof address);
    address.sun_family = AF_UNIX;
    if (path_length == 0 || path_length >= sizeof address.sun_path) { errno = EINVAL; return -1; }
    memcpy(address.sun_path, path, path_length);
    if (path[0] == '@') address.sun_path[0] = 0;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    ssize_t sent = sendto(fd, data, length, MSG_NOSIGNAL, (struct sockaddr *)&address,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_length));
    int saved = errno;
    close(fd);
    errno = saved;
    return sent;
}

/// The terminal's size (TIOCGWINSZ, which Swift cannot reach through the variadic ioctl).
static inline int flowspool_window_size(int fd, unsigned short *rows, unsigned short *columns) {
    struct winsize size;
    memset(&size, 0, sizeof size);
    int result = ioctl(fd, TIOCGWINSZ, &size);
    *rows = size.ws_row;
    *columns = size.ws_col;
    return result;
}

#endif
