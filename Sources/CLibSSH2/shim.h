/* libssh2's calls that are macros, as functions Swift can call. */
#ifndef FLOWSPOOL_CLIBSSH2_SHIM_H
#define FLOWSPOOL_CLIBSSH2_SHIM_H

#include <libssh2.h>
#include <string.h>

static inline LIBSSH2_SESSION *flowspool_ssh_session_init(void) {
    return libssh2_session_init_ex(NULL, NULL, NULL, NULL);
}

static inline int flowspool_ssh_disconnect(LIBSSH2_SESSION *session, const char *description) {
    return libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, description, "");
}

static inline int flowspool_ssh_password(LIBSSH2_SESSION *session, const char *user, const char *password) {
    return libssh2_userauth_password_ex(session, user, (unsigned int)strlen(user), password,
                                        (unsigned int)strlen(password), NULL);
}

static inline LIBSSH2_CHANNEL *flowspool_ssh_open_session(LIBSSH2_SESSION *session) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1, LIBSSH2_CHANNEL_WINDOW_DEFAULT,
                                   LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

static inline int flowspool_ssh_exec(LIBSSH2_CHANNEL *channel, const char *command, unsigned int length) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1, command, length);
}

static inline ssize_t flowspool_ssh_read(LIBSSH2_CHANNEL *channel, int stream, char *buffer, size_t size) {
    return libssh2_channel_read_ex(channel, stream, buffer, size);
}

static inline int flowspool_ssh_last_error(LIBSSH2_SESSION *session, char **message) {
    int length = 0;
    return libssh2_session_last_error(session, message, &length, 0);
}

#endif
