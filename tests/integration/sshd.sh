# A throwaway sshd on 127.0.0.1 for the SSH transport test and `make bench-ssh`
# (sourced, bash, as root). Nothing outside its own temporary directory is used
# except: the test user (created once when missing, no password, not locked), a
# sudoers drop-in giving it passwordless sudo (removed by pt_sshd_stop), and
# /run/sshd (sshd's privilege separation directory; made when missing and left:
# another sshd started this way, the test's or the benchmark's, may still need it).
#
#   pt_sshd_start   host key, user key, config and sshd in a fresh directory
#                   $PT_SSH_DIR (under /tmp: the user's sshd child must reach its
#                   authorized_keys), listening on 127.0.0.1:$PT_SSH_PORT only;
#                   writes $PT_SSH_DIR/inventory.yml: host `node` as $PT_SSH_USER,
#                   host `node_root` as root, both through $PT_SSH_DIR/ssh-log (a
#                   wrapper around ssh, sftp and scp logging each run to
#                   $PT_SSH_DIR/ssh.log); and $PT_SSH_DIR/vars.yml, the same
#                   connection as $PT_SSH_USER with become, for -e @vars.yml
#   pt_sshd_stop    stops sshd, removes the drop-in and $PT_SSH_DIR (trap it)
PT_SSH_USER=${PT_SSH_USER:-pt-ssh}
PT_SSHD_PID=
PT_SSH_SUDOERS=
PT_SSH_DIR=

pt_sshd_stop() {
	# The connections Ansible keeps open (ControlPersist) end with their sessions.
	local sock
	for sock in "${PT_SSH_DIR:-/nonexistent}"/cp/*; do
		[ -S "$sock" ] && ssh -o ControlPath="$sock" -O exit pt-ssh-test >/dev/null 2>&1
	done
	if [ -n "$PT_SSHD_PID" ]; then
		kill "$PT_SSHD_PID" 2>/dev/null || true
		wait "$PT_SSHD_PID" 2>/dev/null || true
		PT_SSHD_PID=
	fi
	[ -z "$PT_SSH_SUDOERS" ] || rm -f "$PT_SSH_SUDOERS"
	PT_SSH_SUDOERS=
	case $PT_SSH_DIR in /tmp/pt-sshd.*) rm -rf "$PT_SSH_DIR" ;; esac
	PT_SSH_DIR=
}

pt_sshd_start() {
	local dir sshd=/usr/sbin/sshd
	[ -x "$sshd" ] || { echo "sshd missing: make deps installs openssh-server" >&2; return 1; }
	command -v sudo >/dev/null || { echo "sudo missing: make deps installs it" >&2; return 1; }
	[ "$(id -u)" = 0 ] || { echo "the SSH transport test runs as root" >&2; return 1; }
	# The user Ansible logs in as; '*': no password, but not locked (sshd without
	# PAM refuses a locked account even with a key).
	if ! id "$PT_SSH_USER" >/dev/null 2>&1; then
		useradd -m -s /bin/sh "$PT_SSH_USER" || return 1
	fi
	usermod -p '*' "$PT_SSH_USER" || return 1
	# A drop-in of its own per run (names with a dot are ignored by sudo).
	PT_SSH_SUDOERS=$(mktemp /etc/sudoers.d/pt-ssh-test-XXXXXX) || return 1
	printf '%s ALL=(ALL:ALL) NOPASSWD: ALL\n' "$PT_SSH_USER" >"$PT_SSH_SUDOERS"
	chmod 0440 "$PT_SSH_SUDOERS"
	visudo -cq -f "$PT_SSH_SUDOERS" || return 1
	[ -d /run/sshd ] || mkdir -m 0755 /run/sshd || return 1

	dir=$(mktemp -d /tmp/pt-sshd.XXXXXX) || return 1
	PT_SSH_DIR=$dir
	chmod 0755 "$dir" # the user's sshd child reads authorized_keys
	ssh-keygen -q -t ed25519 -N '' -C pt-host -f "$dir/host_key" || return 1
	ssh-keygen -q -t ed25519 -N '' -C pt-user -f "$dir/user_key" || return 1
	cp "$dir/user_key.pub" "$dir/authorized_keys"
	chmod 0644 "$dir/authorized_keys"
	PT_SSH_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$dir/sshd_config" <<-EOF
		ListenAddress 127.0.0.1:$PT_SSH_PORT
		HostKey $dir/host_key
		PidFile $dir/sshd.pid
		AuthorizedKeysFile $dir/authorized_keys
		StrictModes no
		UsePAM no
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin prohibit-password
		AllowUsers $PT_SSH_USER root
		MaxSessions 64
		MaxStartups 64
		Subsystem sftp internal-sftp
		LogLevel VERBOSE
	EOF
	"$sshd" -t -f "$dir/sshd_config" || return 1
	"$sshd" -D -e -f "$dir/sshd_config" 2>"$dir/sshd.log" &
	PT_SSHD_PID=$!
	local i
	for i in $(seq 50); do
		ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
			-i "$dir/user_key" -p "$PT_SSH_PORT" "$PT_SSH_USER@127.0.0.1" true 2>/dev/null && break
		sleep 0.1
	done
	[ "$i" -lt 50 ] || { tail -n 20 "$dir/sshd.log" >&2; echo "sshd did not answer" >&2; return 1; }

	# Every ssh, sftp and scp Ansible starts goes through this wrapper: one line
	# per run in ssh.log (the program and, for ssh, its last argument: the command).
	cat >"$dir/ssh-log" <<-EOF
		#!/bin/sh
		prog=\${0##*/}
		prog=\${prog#log-}
		for last; do :; done
		printf '%s %s\n' "\$prog" "\$(printf '%s' "\$last" | head -c 60 | tr '\n' ' ')" >>"$dir/ssh.log"
		exec "\$prog" "\$@"
	EOF
	chmod 0755 "$dir/ssh-log"
	ln -sf ssh-log "$dir/log-ssh"
	ln -sf ssh-log "$dir/log-sftp"
	ln -sf ssh-log "$dir/log-scp"
	# The same connection as extra vars (-e @vars.yml), for inventories that set
	# their own (the example inventory's ansible_user: root).
	cat >"$dir/vars.yml" <<-EOF
		ansible_host: 127.0.0.1
		ansible_port: $PT_SSH_PORT
		ansible_connection: ssh
		ansible_user: $PT_SSH_USER
		ansible_become: true
		ansible_ssh_private_key_file: $dir/user_key
		ansible_ssh_common_args: -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o BatchMode=yes
		ansible_ssh_executable: $dir/log-ssh
		ansible_sftp_executable: $dir/log-sftp
		ansible_scp_executable: $dir/log-scp
		ansible_python_interpreter: /usr/bin/python3
	EOF
	cat >"$dir/inventory.yml" <<-EOF
		all:
		  vars:
		    ansible_host: 127.0.0.1
		    ansible_port: $PT_SSH_PORT
		    ansible_connection: ssh
		    ansible_ssh_private_key_file: $dir/user_key
		    ansible_ssh_common_args: -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o BatchMode=yes
		    ansible_ssh_executable: $dir/log-ssh
		    ansible_sftp_executable: $dir/log-sftp
		    ansible_scp_executable: $dir/log-scp
		    ansible_python_interpreter: /usr/bin/python3
		  hosts:
		    node:
		      ansible_user: $PT_SSH_USER
		    node_root:
		      ansible_user: root
	EOF
	export ANSIBLE_SSH_CONTROL_PATH_DIR=$dir/cp
}
