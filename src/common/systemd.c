/*
 * systemd.c - telling whether systemd runs, and reloading its units.
 */
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "systemd.h"

bool kashim_systemd_runs(void)
{
	struct stat st;

	return lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);
}

int kashim_systemd_reload(void)
{
	int status;
	pid_t pid;

	if (!kashim_systemd_runs())
		return 0;
	pid = fork();
	if (pid == 0) {
		execlp("systemctl", "systemctl", "daemon-reload", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -1;
	return 0;
}
