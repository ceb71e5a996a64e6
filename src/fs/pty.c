/* Pseudo-terminals, as drivers/tty/pty.c, n_tty.c and tty_jobctrl.c make
 * them (pty(7), termios(3), tty_ioctl(4) and credentials(7) are the
 * specification).
 *
 * A pair is one struct pty: the slave's termios, window size, foreground
 * group and session (a pty master's termios ioctls act on its slave, as
 * Linux's do), the input queue from the master to the slave with the line
 * being edited in canonical mode, and the output queue from the slave to
 * the master. Bytes are processed when they are written (the kernel does
 * it a little later, in a work item): a master write runs the input side
 * of the line discipline (ICRNL, ISIG, ICANON editing, ECHO), a slave write
 * the output side (OPOST, ONLCR). Both ends sleep on one wait queue, which
 * poll and epoll also use.
 *
 * The controlling terminal of a session is the pty whose sid is the
 * session's: a session has at most one and a pty belongs to at most one
 * session, so the link is kept on the pty alone. */
#include "sentry/service.h"

#include "fs/pty.h"
#include "fs/vfs.h"
#include "fs/vfs_internal.h"
#include "sentry/kernel/creds.h"
#include "sentry/kernel/task.h"

/* termios bits (asm-generic/termbits.h). */
#define T_ISTRIP 0000040
#define T_INLCR 0000100
#define T_IGNCR 0000200
#define T_ICRNL 0000400
#define T_IUCLC 0001000
#define T_IXON 0002000
#define T_IXANY 0004000
#define T_OPOST 0000001
#define T_OLCUC 0000002
#define T_ONLCR 0000004
#define T_OCRNL 0000010
#define T_ONOCR 0000020
#define T_ONLRET 0000040
#define T_CBAUD 0010017
#define T_BOTHER 0010000
#define T_CSIZE 0000060
#define T_CS8 0000060
#define T_CREAD 0000200
#define T_PARENB 0000400
#define T_B38400 0000017
#define T_ISIG 0000001
#define T_ICANON 0000002
#define T_ECHO 0000010
#define T_ECHOE 0000020
#define T_ECHOK 0000040
#define T_ECHONL 0000100
#define T_NOFLSH 0000200
#define T_TOSTOP 0000400
#define T_ECHOCTL 0001000
#define T_ECHOKE 0004000
#define T_IEXTEN 0100000

enum {
	V_INTR = 0,
	V_QUIT = 1,
	V_ERASE = 2,
	V_KILL = 3,
	V_EOF = 4,
	V_TIME = 5,
	V_MIN = 6,
	V_START = 8,
	V_STOP = 9,
	V_SUSP = 10,
	V_EOL = 11,
	V_WERASE = 14,
	V_LNEXT = 15,
	V_EOL2 = 16,
};

/* ioctl requests (asm-generic/ioctls.h). */
#define TCGETS_ 0x5401
#define TCSETS_ 0x5402
#define TCSETSW_ 0x5403
#define TCSETSF_ 0x5404
#define TCSBRK_ 0x5409
#define TCXONC_ 0x540A
#define TCFLSH_ 0x540B
#define TIOCEXCL_ 0x540C
#define TIOCNXCL_ 0x540D
#define TIOCSCTTY_ 0x540E
#define TIOCGPGRP_ 0x540F
#define TIOCSPGRP_ 0x5410
#define TIOCOUTQ_ 0x5411
#define TIOCSTI_ 0x5412
#define TIOCGWINSZ_ 0x5413
#define TIOCSWINSZ_ 0x5414
#define FIONREAD_ 0x541B
#define TIOCPKT_ 0x5420
#define TIOCNOTTY_ 0x5422
#define TIOCSETD_ 0x5423
#define TIOCGETD_ 0x5424
#define TCSBRKP_ 0x5425
#define TIOCSBRK_ 0x5427
#define TIOCCBRK_ 0x5428
#define TIOCGSID_ 0x5429
#define TCGETS2_ 0x802C542A
#define TCSETS2_ 0x402C542B
#define TCSETSW2_ 0x402C542C
#define TCSETSF2_ 0x402C542D
#define TIOCGPTN_ 0x80045430
#define TIOCSPTLCK_ 0x40045431
#define TIOCGDEV_ 0x80045432
#define TIOCGPKT_ 0x80045438
#define TIOCGPTLCK_ 0x80045439
#define TIOCGEXCL_ 0x80045440
#define TIOCGPTPEER_ 0x5441

#define CAP_SYS_ADMIN_ 21
#define SIG_IGN_HANDLER 1
#define SI_KERNEL_ 0x80
#define TTY_GID 5 /* devpts mounted gid=5,mode=620, as Debian and runc do */
#define PTY_SLAVE_MAJOR 136
#define TTYAUX_MAJOR 5
#define DEVPTS_SUPER_MAGIC 0x1cd1

#define PTY_MAX 4096 /* /proc/sys/kernel/pty/max */
#define PTY_IN_CAP 65536 /* the flip buffer's limit, roughly */
#define PTY_OUT_CAP 65536
#define PTY_LINE_MAX 4095 /* N_TTY_BUF_SIZE - 1: the longest canonical line */
/* Finished lines waiting for the slave: n_tty's 4096-byte buffer holds no
 * more; past it the master's writes wait. */
#define PTY_LINES_MAX 4096

struct pty_ring {
	uint8_t *buf;
	size_t cap;
	uint64_t rd, wr; /* absolute counts: wr - rd bytes are queued */
};

struct pty {
	int index;
	struct pty *next;
	bool master_open;
	int slaves; /* open slave files (/dev/pts/N, TIOCGPTPEER, /dev/tty) */
	/* The last slave was closed: the master reads EIO once drained and
	 * polls POLLHUP (TTY_OTHER_CLOSED). A new slave open clears it. */
	bool other_closed;
	bool locked; /* TIOCSPTLCK: slaves may not be opened */
	bool hungup; /* the master is gone: the slave is hung up */
	bool exclusive; /* TIOCEXCL */
	bool stopped; /* IXON: output stopped by VSTOP */
	bool lnext; /* the next input byte is literal (VLNEXT) */
	uint32_t uid; /* the owner of /dev/pts/N: who opened the master */
	struct linux_statx_timestamp created;
	struct linux_termios tio;
	struct linux_winsize ws;
	int32_t sid; /* the session it is the controlling terminal of, or 0 */
	int32_t pgrp; /* its foreground process group, or 0 */
	struct pty_ring in; /* master -> slave: what the slave may read */
	struct pty_ring out; /* slave -> master */
	/* Canonical mode: where each finished line ends in `in` (a ring of
	 * absolute positions; an end equal to the previous one is a VEOF on
	 * an empty line, which reads as 0). */
	uint64_t *ends;
	size_t ends_cap, ends_head, ends_n;
	uint8_t line[PTY_LINE_MAX + 1];
	size_t line_len;
	int column; /* the output column, for ONOCR and erasing */
	int64_t in_arrival_ns; /* when the last input byte came: VTIME */
	struct waitq wq;
};

static struct pty *pty_list;
static uint32_t devpts_minor;

/* Rings. */

static size_t ring_len(const struct pty_ring *r)
{
	return (size_t)(r->wr - r->rd);
}

static size_t ring_space(const struct pty_ring *r)
{
	return r->cap - ring_len(r);
}

static void ring_put(struct pty_ring *r, uint8_t c)
{
	r->buf[r->wr % r->cap] = c;
	r->wr++;
}

static void ring_take(struct pty_ring *r, void *dst, size_t n)
{
	for (size_t i = 0; i < n; i++)
		((uint8_t *)dst)[i] = r->buf[(r->rd + i) % r->cap];
	r->rd += n;
}

static void pty_wake(struct pty *p)
{
	waitq_wake_all(&p->wq);
}

static bool is_canon(const struct pty *p)
{
	return p->tio.c_lflag & T_ICANON;
}

/* Is c the special character cc[i]? A NUL entry is disabled. */
static bool is_cc(const struct pty *p, uint8_t c, int i)
{
	return p->tio.c_cc[i] != 0 && c == p->tio.c_cc[i];
}

static bool is_ctl(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

/* Signals. */

struct pgrp_kill {
	int32_t pgrp;
	int sig;
};

static void kill_member(struct process *p, void *arg)
{
	struct pgrp_kill *k = arg;
	if (p->zombie || p->pgid != k->pgrp)
		return;
	struct linux_siginfo si;
	memset(&si, 0, sizeof(si));
	si.si_signo = k->sig;
	si.si_code = SI_KERNEL_;
	signal_send_process(p, &si);
}

/* kill_pgrp(pgrp, sig, 1): from the kernel, so no permission check. */
static void kill_pgrp(int32_t pgrp, int sig)
{
	if (pgrp <= 0)
		return;
	struct pgrp_kill k = { pgrp, sig };
	process_for_each(kill_member, &k);
}

static void kill_proc(int32_t pid, int sig)
{
	struct process *p = process_by_pid(pid);
	if (!p || p->zombie)
		return;
	struct linux_siginfo si;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_KERNEL_;
	signal_send_process(p, &si);
}

struct orphan_query {
	int32_t pgrp;
	bool anchored;
};

static void orphan_check(struct process *p, void *arg)
{
	struct orphan_query *q = arg;
	if (p->zombie || p->pgid != q->pgrp || !p->parent)
		return;
	if (p->parent->pgid != q->pgrp && p->parent->sid == p->sid)
		q->anchored = true;
}

/* An orphaned process group: no member has a parent in another group of
 * the same session (credentials(7)). */
static bool pgrp_orphaned(int32_t pgrp)
{
	struct orphan_query q = { pgrp, false };
	process_for_each(orphan_check, &q);
	return !q.anchored;
}

/* __tty_check_change: a background process touching its controlling
 * terminal gets sig (SIGTTIN for reads, SIGTTOU for writes with TOSTOP
 * and for changes), unless it ignores or blocks it. */
static long pty_job_check(struct task *t, struct pty *p, int sig)
{
	if (!t || !p->sid || p->sid != t->proc->sid)
		return 0;
	struct process *me = t->proc;
	if (!p->pgrp || me->pgid == p->pgrp)
		return 0;
	bool ignored = (t->sigmask & SIGBIT(sig)) || me->sighand->actions[sig - 1].handler == SIG_IGN_HANDLER;
	if (ignored)
		return sig == SIGTTIN ? -EIO : 0;
	if (pgrp_orphaned(me->pgid))
		return -EIO;
	kill_pgrp(me->pgid, sig);
	return -WARD_ERESTARTSYS;
}

/* The controlling terminal of session sid, or NULL. */
static struct pty *pty_of_session(int32_t sid)
{
	if (sid <= 0)
		return NULL;
	for (struct pty *p = pty_list; p; p = p->next)
		if (p->sid == sid)
			return p;
	return NULL;
}

static void pty_clear_session(struct pty *p)
{
	p->sid = 0;
	p->pgrp = 0;
}

/* Output: the slave's writes and the echoes, toward the master. */

static void out_raw(struct pty *p, uint8_t c)
{
	if (ring_space(&p->out))
		ring_put(&p->out, c);
}

/* do_output_char: OPOST processing of one byte. Needs two bytes of room
 * for ONLCR; what does not fit is dropped (echoes) or waited for (writes,
 * which check first). */
static void out_char(struct pty *p, uint8_t c)
{
	uint32_t of = p->tio.c_oflag;
	if (!(of & T_OPOST)) {
		out_raw(p, c);
		return;
	}
	switch (c) {
	case '\n':
		if (of & T_ONLRET)
			p->column = 0;
		if (of & T_ONLCR) {
			p->column = 0;
			out_raw(p, '\r');
		}
		break;
	case '\r':
		if ((of & T_ONOCR) && p->column == 0)
			return;
		if (of & T_OCRNL) {
			c = '\n';
			if (of & T_ONLRET)
				p->column = 0;
			break;
		}
		p->column = 0;
		break;
	case '\t':
		p->column = (p->column | 7) + 1;
		break;
	case '\b':
		if (p->column > 0)
			p->column--;
		break;
	default:
		if (of & T_OLCUC)
			c = (uint8_t)toupper(c);
		if (!is_ctl(c))
			p->column++;
		break;
	}
	out_raw(p, c);
}

/* echo_char: control characters as ^X under ECHOCTL (not tab, not
 * newline). */
static void echo_char(struct pty *p, uint8_t c)
{
	if ((p->tio.c_lflag & T_ECHOCTL) && is_ctl(c) && c != '\t' && c != '\n') {
		out_char(p, '^');
		out_char(p, c ^ 0100);
		return;
	}
	out_char(p, c);
}

static int echo_width(const struct pty *p, uint8_t c)
{
	return ((p->tio.c_lflag & T_ECHOCTL) && is_ctl(c) && c != '\t') ? 2 : 1;
}

static void erase_visual(struct pty *p, uint8_t c)
{
	for (int i = 0; i < echo_width(p, c); i++) {
		out_char(p, '\b');
		out_char(p, ' ');
		out_char(p, '\b');
	}
}

/* Input: the master's writes, through the line discipline. */

static void in_put(struct pty *p, uint8_t c)
{
	if (ring_space(&p->in)) {
		ring_put(&p->in, c);
		p->in_arrival_ns = ward_now_ns();
	}
}

/* Ends the line being edited: it becomes readable. */
static void finish_line(struct pty *p)
{
	for (size_t i = 0; i < p->line_len; i++)
		in_put(p, p->line[i]);
	p->line_len = 0;
	if (p->ends_n < p->ends_cap) {
		p->ends[(p->ends_head + p->ends_n) % p->ends_cap] = p->in.wr;
		p->ends_n++;
	}
	p->in_arrival_ns = ward_now_ns();
}

static void flush_input(struct pty *p)
{
	p->in.rd = p->in.wr;
	p->ends_n = 0;
	p->line_len = 0;
	p->lnext = false;
}

/* VERASE, VWERASE and VKILL (n_tty's eraser). */
static void erase(struct pty *p, uint8_t c)
{
	uint32_t lf = p->tio.c_lflag;
	bool echo = lf & T_ECHO;
	if (p->line_len == 0)
		return;
	if (is_cc(p, c, V_KILL)) {
		if (!echo) {
			p->line_len = 0;
			return;
		}
		if (!(lf & T_ECHOK) || !(lf & T_ECHOKE) || !(lf & T_ECHOE)) {
			p->line_len = 0;
			echo_char(p, c);
			if (lf & T_ECHOK)
				out_char(p, '\n');
			return;
		}
		while (p->line_len)
			erase_visual(p, p->line[--p->line_len]);
		return;
	}
	bool word = !is_cc(p, c, V_ERASE);
	int seen_alnums = 0;
	while (p->line_len) {
		uint8_t d = p->line[p->line_len - 1];
		if (word) {
			if (isalnum(d) || d == '_')
				seen_alnums++;
			else if (seen_alnums)
				break;
		}
		p->line_len--;
		if (echo) {
			if (lf & T_ECHOE)
				erase_visual(p, d);
			else
				echo_char(p, p->tio.c_cc[V_ERASE]);
		}
		if (!word)
			break;
	}
}

/* One byte from the master (n_tty_receive_char and its special cases). */
static void receive_char(struct pty *p, uint8_t c)
{
	const struct linux_termios *tio = &p->tio;
	uint32_t lf = tio->c_lflag, inf = tio->c_iflag;
	bool echo = lf & T_ECHO;

	if (inf & T_ISTRIP)
		c &= 0x7f;
	if ((inf & T_IUCLC) && (lf & T_IEXTEN))
		c = (uint8_t)tolower(c);
	if (p->lnext) {
		p->lnext = false;
		goto plain;
	}
	if (inf & T_IXON) {
		if (is_cc(p, c, V_STOP)) {
			p->stopped = true;
			return;
		}
		if (is_cc(p, c, V_START)) {
			p->stopped = false;
			return;
		}
		if (p->stopped && (inf & T_IXANY))
			p->stopped = false;
	}
	if (lf & T_ISIG) {
		int sig = is_cc(p, c, V_INTR)	? SIGINT
			  : is_cc(p, c, V_QUIT) ? SIGQUIT
			  : is_cc(p, c, V_SUSP) ? SIGTSTP
						: 0;
		if (sig) {
			kill_pgrp(p->pgrp, sig);
			if (!(lf & T_NOFLSH))
				flush_input(p);
			if (echo)
				echo_char(p, c);
			return;
		}
	}
	if (c == '\r') {
		if (inf & T_IGNCR)
			return;
		if (inf & T_ICRNL)
			c = '\n';
	} else if (c == '\n' && (inf & T_INLCR)) {
		c = '\r';
	}
	if (lf & T_ICANON) {
		if (is_cc(p, c, V_ERASE) || is_cc(p, c, V_KILL) || ((lf & T_IEXTEN) && is_cc(p, c, V_WERASE))) {
			erase(p, c);
			return;
		}
		if ((lf & T_IEXTEN) && is_cc(p, c, V_LNEXT)) {
			p->lnext = true;
			if (echo) {
				out_char(p, '^');
				out_char(p, '\b');
			}
			return;
		}
		if (c == '\n') {
			if (echo || (lf & T_ECHONL))
				out_char(p, '\n');
			p->line[p->line_len++] = c;
			finish_line(p);
			return;
		}
		if (is_cc(p, c, V_EOF)) {
			finish_line(p);
			return;
		}
		if (is_cc(p, c, V_EOL) || ((lf & T_IEXTEN) && is_cc(p, c, V_EOL2))) {
			if (echo)
				echo_char(p, c);
			p->line[p->line_len++] = c;
			finish_line(p);
			return;
		}
	}
plain:
	if (lf & T_ICANON) {
		/* A full line takes nothing but its end. */
		if (p->line_len >= PTY_LINE_MAX)
			return;
		if (echo)
			echo_char(p, c);
		p->line[p->line_len++] = c;
		return;
	}
	if (echo)
		echo_char(p, c);
	in_put(p, c);
}

/* Room for one more byte from the master. */
static bool input_room(const struct pty *p)
{
	if (is_canon(p))
		return ring_space(&p->in) > p->line_len + 1 && p->ends_n < p->ends_cap;
	return ring_space(&p->in) > 0;
}

/* What a read of the slave may take now (input_available_p). */
static bool input_available(const struct pty *p, bool for_poll)
{
	if (is_canon(p))
		return p->ends_n > 0;
	size_t amt = 1;
	if (for_poll && p->tio.c_cc[V_TIME] == 0 && p->tio.c_cc[V_MIN])
		amt = p->tio.c_cc[V_MIN];
	return ring_len(&p->in) >= amt;
}

/* A termios change: switching canonical mode off makes the line being
 * edited readable; switching it on ends what is queued as one line. */
static void set_termios(struct pty *p, const struct linux_termios *tio)
{
	bool was_canon = is_canon(p);
	p->tio = *tio;
	/* pty_set_termios: a pty is always 8 bits, no parity, receiving. */
	p->tio.c_cflag &= ~(uint32_t)(T_CSIZE | T_PARENB);
	p->tio.c_cflag |= T_CS8 | T_CREAD;
	if (was_canon && !is_canon(p)) {
		for (size_t i = 0; i < p->line_len; i++)
			in_put(p, p->line[i]);
		p->line_len = 0;
		p->ends_n = 0;
	} else if (!was_canon && is_canon(p) && ring_len(&p->in)) {
		finish_line(p);
	}
	if (!(p->tio.c_iflag & T_IXON))
		p->stopped = false;
	pty_wake(p);
}

/* Lifetime. */

static void pty_free_if_unused(struct pty *p)
{
	if (p->master_open || p->slaves)
		return;
	for (struct pty **pp = &pty_list; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	free(p->in.buf);
	free(p->out.buf);
	free(p->ends);
	free(p);
}

static struct pty *pty_by_index(int index)
{
	for (struct pty *p = pty_list; p; p = p->next)
		if (p->index == index)
			return p;
	return NULL;
}

/* tty_std_termios, as a new pty's slave starts. */
static void std_termios(struct linux_termios *t)
{
	memset(t, 0, sizeof(*t));
	t->c_iflag = T_ICRNL | T_IXON;
	t->c_oflag = T_OPOST | T_ONLCR;
	t->c_cflag = T_B38400 | T_CS8 | T_CREAD;
	t->c_lflag = T_ISIG | T_ICANON | T_ECHO | T_ECHOE | T_ECHOK | T_ECHOCTL | T_ECHOKE | T_IEXTEN;
	static const uint8_t cc[] = { 3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0 };
	memcpy(t->c_cc, cc, sizeof(cc));
}

static struct pty *pty_new(void)
{
	int index = 0;
	while (index < PTY_MAX && pty_by_index(index))
		index++;
	if (index == PTY_MAX)
		return NULL;
	struct pty *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->in.cap = PTY_IN_CAP;
	p->out.cap = PTY_OUT_CAP;
	p->ends_cap = PTY_LINES_MAX;
	p->in.buf = malloc(p->in.cap);
	p->out.buf = malloc(p->out.cap);
	p->ends = calloc(p->ends_cap, sizeof(*p->ends));
	if (!p->in.buf || !p->out.buf || !p->ends) {
		free(p->in.buf);
		free(p->out.buf);
		free(p->ends);
		free(p);
		return NULL;
	}
	p->index = index;
	p->locked = true;
	std_termios(&p->tio);
	p->created = vfs_now();
	struct task *t = task_current();
	p->uid = t ? t->creds.fsuid : 0;
	p->next = pty_list;
	pty_list = p;
	return p;
}

/* Attributes of /dev/pts/N. */
static void pts_attr(const struct pty *p, struct linux_statx *out)
{
	memset(out, 0, sizeof(*out));
	out->stx_mask = LINUX_STATX_BASIC_STATS;
	out->stx_blksize = 1024;
	out->stx_nlink = 1;
	out->stx_mode = S_IFCHR | 0620;
	out->stx_uid = p->uid;
	out->stx_gid = TTY_GID;
	out->stx_ino = (uint64_t)p->index + 3;
	out->stx_rdev_major = PTY_SLAVE_MAJOR + (uint32_t)p->index / 256;
	out->stx_rdev_minor = (uint32_t)p->index % 256;
	out->stx_dev_minor = devpts_minor;
	out->stx_atime = out->stx_mtime = out->stx_ctime = p->created;
}

static const struct file_ops slave_ops;
static const struct file_ops master_ops;

static struct pty *pty_of(const struct file *f)
{
	return f->priv;
}

static bool is_master(const struct file *f)
{
	return f->ops == &master_ops;
}

/* tty_open_proc_set_tty: a session leader without a controlling terminal
 * that opens a free one for reading (without O_NOCTTY) acquires it. */
static void maybe_acquire(struct pty *p, int flags)
{
	struct task *t = task_current();
	if (!t || (flags & O_NOCTTY) || (flags & O_ACCMODE) == O_WRONLY)
		return;
	struct process *me = t->proc;
	if (me->sid != me->pid || p->sid || pty_of_session(me->sid))
		return;
	p->sid = me->sid;
	p->pgrp = me->pgid;
}

static long pty_open_slave(struct pty *p, int flags, const char *path, struct file **out)
{
	struct task *t = task_current();
	if (!p->master_open)
		return -EIO;
	if (p->locked)
		return -EIO;
	if (p->exclusive && !(t && creds_capable(&t->creds, CAP_SYS_ADMIN_)))
		return -EBUSY;
	struct file *f = file_alloc(&slave_ops, (uint32_t)flags & ~(uint32_t)O_NOCTTY, path, p);
	if (!f)
		return -ENOMEM;
	p->slaves++;
	p->other_closed = false;
	maybe_acquire(p, flags);
	pty_wake(p);
	*out = f;
	return 0;
}

long pty_open_master(int flags, const char *path, struct file **out)
{
	struct pty *p = pty_new();
	if (!p)
		return -ENOSPC;
	struct file *f = file_alloc(&master_ops, (uint32_t)flags & ~(uint32_t)O_NOCTTY, path, p);
	if (!f) {
		pty_free_if_unused(p);
		return -ENOMEM;
	}
	p->master_open = true;
	*out = f;
	return 0;
}

long pty_open_ctty(int flags, const char *path, struct file **out)
{
	struct task *t = task_current();
	struct pty *p = t ? pty_of_session(t->proc->sid) : NULL;
	if (!p)
		return -ENXIO;
	/* /dev/tty never changes who controls what (noctty for TTYAUX 5:0),
	 * and reaches the terminal even while it is locked. */
	struct file *f = file_alloc(&slave_ops, (uint32_t)flags & ~(uint32_t)O_NOCTTY, path, p);
	if (!f)
		return -ENOMEM;
	p->slaves++;
	p->other_closed = false;
	pty_wake(p);
	*out = f;
	return 0;
}

/* __tty_hangup of the slave when its master goes: SIGHUP and SIGCONT to
 * the leader of the session it controls, which loses it. */
static void hangup(struct pty *p)
{
	p->hungup = true;
	if (p->sid) {
		kill_proc(p->sid, SIGHUP);
		kill_proc(p->sid, SIGCONT);
	}
	pty_clear_session(p);
	pty_wake(p);
}

bool pty_session_tty(int32_t sid, uint32_t *tty_nr, int32_t *tpgid)
{
	struct pty *p = pty_of_session(sid);
	if (!p)
		return false;
	/* new_encode_dev of 136+N/256:N%256 */
	uint32_t major = PTY_SLAVE_MAJOR + (uint32_t)p->index / 256, minor = (uint32_t)p->index % 256;
	*tty_nr = (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
	*tpgid = p->pgrp ? p->pgrp : -1;
	return true;
}

void pty_session_exit(int32_t sid)
{
	struct pty *p = pty_of_session(sid);
	if (!p)
		return;
	int32_t pgrp = p->pgrp;
	pty_clear_session(p);
	kill_pgrp(pgrp, SIGHUP);
}

/* Sleeps on the pair's queue. Returns 0 when woken or timed out, -EINTR
 * on a signal. */
static long pty_sleep(struct pty *p, struct task *t, int64_t deadline)
{
	struct waiter w;
	waitq_add(&p->wq, &w, t);
	long r = task_sleep(t, deadline);
	waitq_remove(&p->wq, &w);
	return r == -EINTR ? -EINTR : 0;
}

/* The file operations. */

static long slave_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	struct pty *p = pty_of(f);
	struct task *t = task_current();
	if (p->hungup)
		return 0;
	long r = pty_job_check(t, p, SIGTTIN);
	if (r)
		return r;
	if (len == 0)
		return 0;
	int64_t start = ward_now_ns();
	for (;;) {
		if (p->hungup)
			return 0;
		int64_t deadline = 0;
		size_t avail = ring_len(&p->in);
		if (is_canon(p)) {
			if (p->ends_n) {
				uint64_t end = p->ends[p->ends_head];
				size_t n = (size_t)WARD_MIN((uint64_t)len, end - p->in.rd);
				ring_take(&p->in, buf, n);
				if (p->in.rd == end) {
					p->ends_head = (p->ends_head + 1) % p->ends_cap;
					p->ends_n--;
				}
				pty_wake(p);
				return (long)n;
			}
		} else {
			size_t vmin = p->tio.c_cc[V_MIN], vtime = p->tio.c_cc[V_TIME];
			size_t want = WARD_MIN(vmin, len);
			bool timed_out = false;
			if (vtime && (vmin == 0 || avail)) {
				deadline = (vmin == 0 ? start : p->in_arrival_ns) + (int64_t)vtime * 100000000;
				timed_out = ward_now_ns() >= deadline;
			}
			if ((avail && avail >= want) || (vmin == 0 && vtime == 0) || timed_out ||
			    (avail && (f->flags & O_NONBLOCK))) {
				size_t n = WARD_MIN(avail, len);
				ring_take(&p->in, buf, n);
				pty_wake(p);
				return (long)n;
			}
		}
		if ((f->flags & O_NONBLOCK) || !t)
			return -EAGAIN;
		if (pty_sleep(p, t, deadline) < 0) {
			if (!is_canon(p) && ring_len(&p->in)) {
				size_t n = WARD_MIN(ring_len(&p->in), len);
				ring_take(&p->in, buf, n);
				pty_wake(p);
				return (long)n;
			}
			return -WARD_ERESTARTSYS;
		}
	}
}

static long slave_write(struct file *f, const void *buf, size_t len, uint64_t *pos)
{
	struct pty *p = pty_of(f);
	struct task *t = task_current();
	const uint8_t *in = buf;
	size_t done = 0;
	if (p->hungup)
		return -EIO;
	if (p->tio.c_lflag & T_TOSTOP) {
		long r = pty_job_check(t, p, SIGTTOU);
		if (r)
			return r;
	}
	while (done < len) {
		if (p->hungup)
			return done ? (long)done : -EIO;
		if (!p->stopped && ring_space(&p->out) >= 2) {
			out_char(p, in[done++]);
			continue;
		}
		pty_wake(p);
		if ((f->flags & O_NONBLOCK) || !t)
			return done ? (long)done : -EAGAIN;
		if (pty_sleep(p, t, 0) < 0)
			return done ? (long)done : -WARD_ERESTARTSYS;
	}
	pty_wake(p);
	return (long)done;
}

static long master_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	struct pty *p = pty_of(f);
	struct task *t = task_current();
	if (len == 0)
		return 0;
	for (;;) {
		size_t avail = ring_len(&p->out);
		if (avail) {
			size_t n = WARD_MIN(avail, len);
			ring_take(&p->out, buf, n);
			pty_wake(p);
			return (long)n;
		}
		if (p->other_closed)
			return -EIO;
		if ((f->flags & O_NONBLOCK) || !t)
			return -EAGAIN;
		if (pty_sleep(p, t, 0) < 0)
			return -WARD_ERESTARTSYS;
	}
}

static long master_write(struct file *f, const void *buf, size_t len, uint64_t *pos)
{
	struct pty *p = pty_of(f);
	struct task *t = task_current();
	const uint8_t *in = buf;
	size_t done = 0;
	while (done < len) {
		if (input_room(p)) {
			receive_char(p, in[done++]);
			continue;
		}
		pty_wake(p);
		if ((f->flags & O_NONBLOCK) || !t)
			return done ? (long)done : -EAGAIN;
		if (pty_sleep(p, t, 0) < 0)
			return done ? (long)done : -WARD_ERESTARTSYS;
	}
	pty_wake(p);
	return (long)done;
}

static unsigned int slave_poll(struct file *f, struct waitq **q)
{
	struct pty *p = pty_of(f);
	*q = &p->wq;
	if (p->hungup)
		return POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM | POLLWRNORM;
	unsigned int ev = 0;
	if (input_available(p, true))
		ev |= POLLIN | POLLRDNORM;
	if (!p->stopped && ring_space(&p->out) >= 2)
		ev |= POLLOUT | POLLWRNORM;
	return ev;
}

static unsigned int master_poll(struct file *f, struct waitq **q)
{
	struct pty *p = pty_of(f);
	*q = &p->wq;
	unsigned int ev = 0;
	if (ring_len(&p->out))
		ev |= POLLIN | POLLRDNORM;
	if (input_room(p))
		ev |= POLLOUT | POLLWRNORM;
	if (p->other_closed)
		ev |= POLLHUP;
	return ev;
}

static long slave_getattr(struct file *f, struct linux_statx *out)
{
	/* /dev/tty and /dev/pts/N answer with their own node; a TIOCGPTPEER
	 * file has none and is /dev/pts/N. */
	if (f->vn && f->vn->ops->getattr)
		return f->vn->ops->getattr(f->vn, out);
	pts_attr(pty_of(f), out);
	return 0;
}

static void slave_release(struct file *f)
{
	struct pty *p = pty_of(f);
	if (--p->slaves == 0)
		p->other_closed = true;
	pty_wake(p);
	pty_free_if_unused(p);
}

static void master_release(struct file *f)
{
	struct pty *p = pty_of(f);
	p->master_open = false;
	hangup(p);
	pty_free_if_unused(p);
}

/* ioctls. */

static const uint32_t baud_table[] = { 0,	50,	 75,	  110,	   134,	    150,     200,     300,
				       600,	1200,	 1800,	  2400,	   4800,    9600,    19200,   38400,
				       0,	57600,	 115200,  230400,  460800,  500000,  576000,  921600,
				       1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000 };

static uint32_t baud_of(uint32_t cbaud)
{
	uint32_t i = cbaud & 017;
	if (cbaud & T_BOTHER)
		i += 16;
	return baud_table[i];
}

struct linux_termios2 {
	struct linux_termios t;
	uint32_t c_ispeed, c_ospeed;
};
_Static_assert(sizeof(struct linux_termios2) == 44, "termios2");

static long ioctl_set_termios(struct task *t, struct pty *p, unsigned int cmd, uint64_t arg)
{
	long r = pty_job_check(t, p, SIGTTOU);
	if (r)
		return r;
	struct linux_termios2 t2;
	bool two = cmd == TCSETS2_ || cmd == TCSETSW2_ || cmd == TCSETSF2_;
	r = two ? WARD_COPY_IN_OBJ(task_as(t), &t2, gaddr(arg)) : WARD_COPY_IN_OBJ(task_as(t), &t2.t, gaddr(arg));
	if (r < 0)
		return r;
	/* Explicit speeds (BOTHER) are not modelled: a pty has no line. */
	if ((t2.t.c_cflag & T_CBAUD) == T_BOTHER || ((t2.t.c_cflag >> 16) & T_CBAUD) == T_BOTHER)
		return -EINVAL;
	if (cmd == TCSETSF_ || cmd == TCSETSF2_)
		flush_input(p);
	set_termios(p, &t2.t);
	return 0;
}

static long ioctl_flush(struct pty *p, bool master, uint64_t arg)
{
	/* The master's input is the slave's output and the other way. */
	bool in = arg == 0 || arg == 2, out = arg == 1 || arg == 2;
	if (arg > 2)
		return -EINVAL;
	if (master ? out : in)
		flush_input(p);
	if (master ? in : out)
		p->out.rd = p->out.wr;
	pty_wake(p);
	return 0;
}

static long ioctl_sctty(struct task *t, struct file *f, struct pty *p, uint64_t arg)
{
	struct process *me = t->proc;
	bool leader = me->sid == me->pid;
	if (leader && p->sid == me->sid)
		return 0;
	if (!leader || pty_of_session(me->sid))
		return -EPERM;
	if (p->sid) {
		if (arg == 1 && creds_capable(&t->creds, CAP_SYS_ADMIN_))
			pty_clear_session(p);
		else
			return -EPERM;
	}
	if ((f->flags & O_ACCMODE) == O_WRONLY && !creds_capable(&t->creds, CAP_SYS_ADMIN_))
		return -EPERM;
	p->sid = me->sid;
	p->pgrp = me->pgid;
	return 0;
}

struct pgrp_session {
	int32_t pgrp;
	int32_t sid; /* the session of the group's first member, or -1 */
};

static void find_pgrp(struct process *p, void *arg)
{
	struct pgrp_session *q = arg;
	if (!p->zombie && p->pgid == q->pgrp && q->sid == -1)
		q->sid = p->sid;
}

static long ioctl_spgrp(struct task *t, struct pty *p, uint64_t arg)
{
	long r = pty_job_check(t, p, SIGTTOU);
	if (r == -EIO)
		return -ENOTTY;
	if (r)
		return r;
	int32_t pgrp;
	r = WARD_COPY_IN_OBJ(task_as(t), &pgrp, gaddr(arg));
	if (r < 0)
		return r;
	if (pgrp < 0)
		return -EINVAL;
	if (!p->sid || p->sid != t->proc->sid)
		return -ENOTTY;
	struct pgrp_session q = { pgrp, -1 };
	process_for_each(find_pgrp, &q);
	if (q.sid == -1)
		return -ESRCH;
	if (q.sid != t->proc->sid)
		return -EPERM;
	p->pgrp = pgrp;
	return 0;
}

static long ioctl_notty(struct task *t, struct pty *p)
{
	struct process *me = t->proc;
	if (!p->sid || p->sid != me->sid)
		return -ENOTTY;
	if (me->sid == me->pid) {
		/* disassociate_ctty(0): the foreground group hears of it. */
		int32_t pgrp = p->pgrp;
		pty_clear_session(p);
		kill_pgrp(pgrp, SIGHUP);
		kill_pgrp(pgrp, SIGCONT);
	}
	/* A member that is not the leader would only drop its own link,
	 * which the sid-based model does not keep per process. */
	return 0;
}

static long ioctl_peer(struct task *t, struct pty *p, uint64_t arg)
{
	int flags = (int)arg;
	if (flags & ~(O_ACCMODE | O_NOCTTY | O_CLOEXEC | O_NONBLOCK | O_NOATIME | O_LARGEFILE))
		return -EINVAL;
	char path[32];
	snprintf(path, sizeof(path), "/dev/pts/%d", p->index);
	struct file *f;
	long r = pty_open_slave(p, (flags & ~O_CLOEXEC) | VFS_O_LARGEFILE, path, &f);
	if (r < 0)
		return r;
	r = fd_install(t, f, (flags & O_CLOEXEC) ? FD_CLOEXEC : 0, 0);
	file_put(f);
	return r;
}

static long put_int(struct task *t, uint64_t arg, int v)
{
	return WARD_COPY_OUT_OBJ(task_as(t), gaddr(arg), &v);
}

static long pty_ioctl(struct task *t, struct file *f, unsigned int cmd, uint64_t arg)
{
	struct pty *p = pty_of(f);
	bool master = is_master(f);
	long r;
	/* hung_up_tty_ioctl */
	if (!master && p->hungup)
		return cmd == TIOCSPGRP_ ? -ENOTTY : -EIO;
	if (master) {
		switch (cmd) {
		case TIOCGPTN_:
			return put_int(t, arg, p->index);
		case TIOCSPTLCK_: {
			int v;
			r = WARD_COPY_IN_OBJ(task_as(t), &v, gaddr(arg));
			if (r < 0)
				return r;
			p->locked = v != 0;
			return 0;
		}
		case TIOCGPTLCK_:
			return put_int(t, arg, p->locked);
		case TIOCGPTPEER_:
			return ioctl_peer(t, p, arg);
		case TIOCPKT_: {
			int v;
			r = WARD_COPY_IN_OBJ(task_as(t), &v, gaddr(arg));
			if (r < 0)
				return r;
			/* Packet mode is not modelled: turning it on is refused. */
			return v ? -EINVAL : 0;
		}
		case TIOCGPKT_:
			return put_int(t, arg, 0);
		default:
			break;
		}
	}
	switch (cmd) {
	case TCGETS_:
		return WARD_COPY_OUT_OBJ(task_as(t), gaddr(arg), &p->tio);
	case TCGETS2_: {
		struct linux_termios2 t2 = { p->tio, 0, 0 };
		t2.c_ospeed = baud_of(p->tio.c_cflag & T_CBAUD);
		uint32_t ibaud = (p->tio.c_cflag >> 16) & T_CBAUD;
		t2.c_ispeed = ibaud ? baud_of(ibaud) : t2.c_ospeed;
		return WARD_COPY_OUT_OBJ(task_as(t), gaddr(arg), &t2);
	}
	case TCSETS_:
	case TCSETSW_:
	case TCSETSF_:
	case TCSETS2_:
	case TCSETSW2_:
	case TCSETSF2_:
		return ioctl_set_termios(t, p, cmd, arg);
	case TIOCGWINSZ_:
		return WARD_COPY_OUT_OBJ(task_as(t), gaddr(arg), &p->ws);
	case TIOCSWINSZ_: {
		struct linux_winsize ws;
		r = WARD_COPY_IN_OBJ(task_as(t), &ws, gaddr(arg));
		if (r < 0)
			return r;
		if (memcmp(&ws, &p->ws, sizeof(ws)) != 0) {
			p->ws = ws;
			kill_pgrp(p->pgrp, SIGWINCH);
		}
		return 0;
	}
	case FIONREAD_:
		return put_int(t, arg, (int)WARD_MIN(master ? ring_len(&p->out) : ring_len(&p->in), (size_t)INT32_MAX));
	case TIOCOUTQ_:
		return put_int(t, arg, 0);
	case TCSBRK_:
	case TCSBRKP_:
	case TIOCSBRK_:
	case TIOCCBRK_:
		/* No line to drain or to send a break on. */
		return 0;
	case TCXONC_:
		r = pty_job_check(t, p, SIGTTOU);
		if (r)
			return r;
		switch (arg) {
		case 0: /* TCOOFF */
			p->stopped = true;
			return 0;
		case 1: /* TCOON */
			p->stopped = false;
			pty_wake(p);
			return 0;
		case 2: /* TCIOFF */
		case 3: /* TCION */
			return 0;
		default:
			return -EINVAL;
		}
	case TCFLSH_:
		r = pty_job_check(t, p, SIGTTOU);
		if (r)
			return r;
		return ioctl_flush(p, master, arg);
	case TIOCEXCL_:
		p->exclusive = true;
		return 0;
	case TIOCNXCL_:
		p->exclusive = false;
		return 0;
	case TIOCGEXCL_:
		return put_int(t, arg, p->exclusive);
	case TIOCSCTTY_:
		if (master)
			return -EINVAL; /* a master as a controlling terminal is not modelled */
		return ioctl_sctty(t, f, p, arg);
	case TIOCNOTTY_:
		if (master)
			return -ENOTTY;
		return ioctl_notty(t, p);
	case TIOCGPGRP_:
		/* A slave answers only to processes it controls; the master
		 * to anyone. */
		if (!master && (!p->sid || p->sid != t->proc->sid))
			return -ENOTTY;
		return put_int(t, arg, p->pgrp);
	case TIOCSPGRP_:
		return ioctl_spgrp(t, p, arg);
	case TIOCGSID_:
		if (!master && (!p->sid || p->sid != t->proc->sid))
			return -ENOTTY;
		if (!p->sid)
			return -ENOTTY;
		return put_int(t, arg, p->sid);
	case TIOCGETD_:
		return put_int(t, arg, 0); /* N_TTY */
	case TIOCSETD_: {
		int v;
		r = WARD_COPY_IN_OBJ(task_as(t), &v, gaddr(arg));
		if (r < 0)
			return r;
		return v == 0 ? 0 : -EINVAL;
	}
	case TIOCSTI_: {
		if ((!p->sid || p->sid != t->proc->sid) && !creds_capable(&t->creds, CAP_SYS_ADMIN_))
			return -EPERM;
		uint8_t c;
		r = WARD_COPY_IN_OBJ(task_as(t), &c, gaddr(arg));
		if (r < 0)
			return r;
		receive_char(p, c);
		pty_wake(p);
		return 0;
	}
	case TIOCGDEV_: {
		uint32_t dev = master ? (TTYAUX_MAJOR << 8 | 2)
				      : ((PTY_SLAVE_MAJOR + (uint32_t)p->index / 256) << 8 | (uint32_t)p->index % 256);
		return WARD_COPY_OUT_OBJ(task_as(t), gaddr(arg), &dev);
	}
	default:
		return -ENOTTY;
	}
}

static const struct file_ops slave_ops = {
	.read_buf = slave_read,
	.write_buf = slave_write,
	.getattr = slave_getattr,
	.ioctl_cmd = pty_ioctl,
	.poll_events = slave_poll,
	.release = slave_release,
	.stream = true,
};

static const struct file_ops master_ops = {
	.read_buf = master_read,
	.write_buf = master_write,
	.ioctl_cmd = pty_ioctl,
	.poll_events = master_poll,
	.release = master_release,
	.stream = true,
};

/* devpts: the directory, "ptmx", and one node per pair whose master is
 * open. A vnode's priv is a devpts_node; pts nodes are allocated per
 * lookup and freed with their vnode. */

enum devpts_kind { DEVPTS_ROOT, DEVPTS_PTMX, DEVPTS_PTS };

struct devpts_node {
	enum devpts_kind kind;
	int index;
};

static struct devpts_node devpts_root_node = { DEVPTS_ROOT, 0 };
static struct devpts_node devpts_ptmx_node = { DEVPTS_PTMX, 0 };

static long devpts_getattr(struct vnode *v, struct linux_statx *out)
{
	const struct devpts_node *n = v->priv;
	memset(out, 0, sizeof(*out));
	switch (n->kind) {
	case DEVPTS_ROOT:
	case DEVPTS_PTMX:
		out->stx_mask = LINUX_STATX_BASIC_STATS;
		out->stx_blksize = 4096;
		out->stx_atime = out->stx_mtime = out->stx_ctime = vfs_boot_time();
		out->stx_dev_minor = devpts_minor;
		if (n->kind == DEVPTS_ROOT) {
			out->stx_mode = S_IFDIR | 0755;
			out->stx_nlink = 2;
			out->stx_ino = 1;
		} else {
			out->stx_mode = S_IFCHR; /* ptmxmode=000 */
			out->stx_nlink = 1;
			out->stx_ino = 2;
			out->stx_rdev_major = TTYAUX_MAJOR;
			out->stx_rdev_minor = 2;
		}
		return 0;
	case DEVPTS_PTS: {
		struct pty *p = pty_by_index(n->index);
		if (!p || !p->master_open)
			return -ENOENT;
		pts_attr(p, out);
		return 0;
	}
	}
	return -ENOENT;
}

static long devpts_statfs(struct vnode *v, struct linux_statfs *out)
{
	vfs_synthetic_statfs(DEVPTS_SUPER_MAGIC, out);
	return 0;
}

static long devpts_file_statfs(struct file *f, struct linux_statfs *out)
{
	vfs_synthetic_statfs(DEVPTS_SUPER_MAGIC, out);
	return 0;
}

static long devpts_dir_read(struct file *f, void *buf, size_t len, uint64_t *pos)
{
	return -EISDIR;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static long devpts_getdents(struct file *f, void *buf, size_t len)
{
	struct vfs_dirlist *l = f->priv;
	if (f->pos == 0) {
		vfs_dirlist_free(l);
		long r = vfs_dirlist_add(l, ".", 1, 4);
		if (r >= 0)
			r = vfs_dirlist_add(l, "..", 2, 4);
		if (r >= 0)
			r = vfs_dirlist_add(l, "ptmx", 2, 2);
		int idx[PTY_MAX];
		size_t n = 0;
		for (struct pty *p = pty_list; p && n < PTY_MAX; p = p->next)
			if (p->master_open)
				idx[n++] = p->index;
		qsort(idx, n, sizeof(idx[0]), cmp_int);
		for (size_t i = 0; r >= 0 && i < n; i++) {
			char name[16];
			snprintf(name, sizeof(name), "%d", idx[i]);
			r = vfs_dirlist_add(l, name, (uint64_t)idx[i] + 3, 2);
		}
		if (r < 0)
			return r;
	}
	return vfs_dirlist_getdents(l, f, buf, len);
}

static long devpts_dir_seek(struct file *f, int64_t off, int whence)
{
	struct vfs_dirlist *l = f->priv;
	return vfs_generic_seek(f, off, whence, l->n);
}

static void devpts_dir_release(struct file *f)
{
	vfs_dirlist_free(f->priv);
	free(f->priv);
}

static const struct file_ops devpts_dir_ops = {
	.read_buf = devpts_dir_read,
	.seek = devpts_dir_seek,
	.getdents_buf = devpts_getdents,
	.statfs = devpts_file_statfs,
	.release = devpts_dir_release,
};

static const struct file_ops devpts_path_ops = {
	.statfs = devpts_file_statfs,
};

static long devpts_open(struct vnode *v, int flags, const char *path, struct file **out)
{
	const struct devpts_node *n = v->priv;
	struct file *f = NULL;
	if (flags & O_PATH) {
		f = file_alloc(&devpts_path_ops, (uint32_t)flags, path, NULL);
	} else if (n->kind == DEVPTS_ROOT) {
		struct vfs_dirlist *l = calloc(1, sizeof(*l));
		if (!l)
			return -ENOMEM;
		f = file_alloc(&devpts_dir_ops, (uint32_t)flags, path, l);
		if (!f)
			free(l);
	} else if (n->kind == DEVPTS_PTMX) {
		return pty_open_master(flags, path, out);
	} else {
		struct pty *p = pty_by_index(n->index);
		if (!p || !p->master_open)
			return -ENOENT;
		return pty_open_slave(p, flags, path, out);
	}
	if (!f)
		return -ENOMEM;
	*out = f;
	return 0;
}

static void devpts_release(struct vnode *v)
{
	struct devpts_node *n = v->priv;
	if (n->kind == DEVPTS_PTS)
		free(n);
}

static long devpts_lookup(struct vnode *dir, const char *name, struct vnode **out);

static const struct vnode_ops devpts_vn_ops = {
	.lookup = devpts_lookup,
	.getattr = devpts_getattr,
	.open_file = devpts_open,
	.statfs = devpts_statfs,
	.release = devpts_release,
};

static long devpts_lookup(struct vnode *dir, const char *name, struct vnode **out)
{
	if (strcmp(name, "ptmx") == 0) {
		struct vnode *v = vnode_alloc(&devpts_vn_ops, dir->mnt, S_IFCHR, &devpts_ptmx_node);
		if (!v)
			return -ENOMEM;
		*out = v;
		return 0;
	}
	/* A decimal index without leading zeros, as devpts names them. */
	if (!isdigit((unsigned char)name[0]) || (name[0] == '0' && name[1]) || strlen(name) > 6)
		return -ENOENT;
	int index = 0;
	for (const char *c = name; *c; c++) {
		if (!isdigit((unsigned char)*c))
			return -ENOENT;
		index = index * 10 + (*c - '0');
	}
	struct pty *p = pty_by_index(index);
	if (!p || !p->master_open)
		return -ENOENT;
	struct devpts_node *n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->kind = DEVPTS_PTS;
	n->index = index;
	struct vnode *v = vnode_alloc(&devpts_vn_ops, dir->mnt, S_IFCHR, n);
	if (!v) {
		free(n);
		return -ENOMEM;
	}
	*out = v;
	return 0;
}

long devpts_root(struct vmount *mnt, struct vnode **out)
{
	devpts_minor = vfs_anon_minor();
	struct vnode *v = vnode_alloc(&devpts_vn_ops, mnt, S_IFDIR, &devpts_root_node);
	if (!v)
		return -ENOMEM;
	*out = v;
	return 0;
}
