/* Linux calls that Swift's Glibc module does not import, as typed static inline functions. */
#ifndef FLOWSPOOL_CSYSTEM_SHIM_H
#define FLOWSPOOL_CSYSTEM_SHIM_H

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

/* Declared here because their headers show them only under _GNU_SOURCE, which would make this
   module's view of glibc differ from Swift's own Glibc module. */
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);
extern int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
extern int pipe2(int fds[2], int flags);
extern int syncfs(int fd);
extern char **environ;
#define FLOWSPOOL_RENAME_NOREPLACE (1 << 0)

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

#endif
