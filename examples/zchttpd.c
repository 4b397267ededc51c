/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * zchttpd - a small HTTP/1.1 static file server: one zc_sendv() per response.
 *
 *   zchttpd [-p PORT] [-b ADDR] [-v] ROOT
 *
 * What it shows: a server hands /dev/zcopy a whole response as one vector,
 * the header it formatted in memory and the file range, which leaves from
 * the page cache by reference, in one call (send_vector()); after a short
 * count it resumes with zc_sendv_advance(). Around that, the least HTTP
 * that is still correct (RFC 9110, 9112): GET and HEAD, keep-alive and
 * pipelined requests, a single byte range (206, 416), and paths that
 * cannot leave ROOT (openat2(2) with RESOLVE_BENEATH).
 *
 * Deliberately simple: one thread per connection; requests with a body
 * are answered and the connection closed, the body never read; targets in
 * origin form only ("GET /path", not "GET http://host/path"); a Range of
 * several ranges is answered with the whole file (200), which RFC 9110
 * allows; "/dir/" serves dir/index.html, and there are no listings.
 *
 * Without /dev/zcopy (module not loaded: ENOENT, ENODEV; or a module
 * without ZCOPY_IOC_SENDV: ENOTTY) it says so once on stderr and sends
 * the same vectors with sendmsg() and sendfile(2). On SIGINT or SIGTERM
 * it prints where the bytes went, from the stats zc_sendv() returned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "zcopy.h"

#define REQ_MAX	  8192 /* request line and headers; more is 431 */
#define IDLE_SECS 30   /* a connection idle (or not reading) this long is closed */

static int root_fd; /* ROOT, opened once: every path is resolved beneath it */
static bool verbose;

/* Where the bytes went, over all connections; printed at exit. */
static atomic_ullong n_responses, n_sent, n_file, n_zc, n_copied, n_fallback;
/* Set when zc_sendv() found no /dev/zcopy: from then on, the fallback. */
static atomic_bool use_fallback;

struct conn {
	int fd;
	size_t len;	       /* bytes in buf: this request, and any pipelined after it */
	char buf[REQ_MAX + 1]; /* + 1: room for a NUL after a full buffer */
};

/* A parsed request; the strings point into conn.buf. */
struct request {
	const char *method, *target;
	bool head;	 /* HEAD: the header of GET's response, no body */
	bool http10;	 /* HTTP/1.0: close unless asked to keep alive */
	bool keep_alive; /* the connection stays open after the response */
	const char *range;
	bool if_range;
};

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{ 200, "OK" },
	{ 206, "Partial Content" },
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 416, "Range Not Satisfiable" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 505, "HTTP Version Not Supported" },
};

static const char *reason(int status)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

static const struct {
	const char *ext, *type;
} types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "css", "text/css" },
	{ "js", "text/javascript" },
	{ "json", "application/json" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "svg", "image/svg+xml" },
	{ "pdf", "application/pdf" },
};

/* The Content-Type for a path, by the extension of its last component. */
static const char *content_type(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(slash ? slash : path, '.');

	for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(dot + 1, types[i].ext))
			return types[i].type;
	return "application/octet-stream";
}

/*
 * The same vector as zc_sendv() takes, without /dev/zcopy: the memory
 * segments at the front by sendmsg() (writev(2) with flags: MSG_MORE keeps
 * a header back to share a packet with the file), a file by sendfile(2).
 * Returns the bytes sent from the first segment on, as zc_sendv() does.
 */
static ssize_t sendv_fallback(int sock, const struct zcopy_seg *s, unsigned int n)
{
	struct iovec iov[4];
	struct msghdr mh = { .msg_iov = iov };
	off_t off;

	if (s->type == ZCOPY_SEG_FILE) {
		off = s->offset;
		return sendfile(sock, s->fd, &off, s->len);
	}
	while (mh.msg_iovlen < n && mh.msg_iovlen < 4 && s[mh.msg_iovlen].type == ZCOPY_SEG_MEM) {
		iov[mh.msg_iovlen].iov_base = (void *)(uintptr_t)s[mh.msg_iovlen].addr;
		iov[mh.msg_iovlen].iov_len = s[mh.msg_iovlen].len;
		mh.msg_iovlen++;
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL | (mh.msg_iovlen < n ? MSG_MORE : 0));
}

/*
 * Send a whole vector: one zc_sendv() call, unless it stops short (a
 * signal, the send timeout, the file shrank since fstat()); then
 * zc_sendv_advance() moves the vector past what went out and the next
 * call sends exactly the rest. The caller's array is changed. Returns 0,
 * or -1 when the connection cannot go on: its peer is gone, or the
 * response cannot be completed (Content-Length was promised).
 */
static int send_vector(int sock, struct zcopy_seg *v, unsigned int n, struct zc_stats *tot)
{
	while (n) {
		struct zc_stats st = { 0 };
		ssize_t r;

		if (!atomic_load(&use_fallback)) {
			/* NOSIGNAL: a client that went away is EPIPE, not SIGPIPE. */
			r = zc_sendv(sock, v, n, ZCOPY_SEND_NOSIGNAL, &st);
			if (r < 0 && (errno == ENOENT || errno == ENODEV || errno == ENOTTY)) {
				if (!atomic_exchange(&use_fallback, true))
					fprintf(stderr,
						"zchttpd: no zc_sendv() (%s); falling back to "
						"sendmsg() + sendfile(2)\n",
						strerror(errno));
				continue;
			}
		} else {
			r = sendv_fallback(sock, v, n);
			if (r > 0)
				n_fallback += r;
		}
		if (r < 0 && errno == EINTR)
			continue;
		/* 0: the first segment is a file at its end; it was truncated. */
		if (r <= 0)
			return -1;
		tot->zc_bytes += st.zc_bytes;
		tot->copied_bytes += st.copied_bytes;
		n_zc += st.zc_bytes;
		n_copied += st.copied_bytes;
		n_sent += r;
		zc_sendv_advance(&v, &n, r);
	}
	return 0;
}

/*
 * The status line and header fields; @extra is more fields, each ending
 * in CRLF. @length is the body's length, also for HEAD, which sends none.
 */
static int format_head(char *buf, size_t size, const struct request *rq, int status,
		       const char *type, uint64_t length, const char *extra)
{
	const char *conn = "";
	char date[64];
	struct tm tm;
	time_t now = time(NULL);

	/* HTTP/1.1 keeps a connection by default, HTTP/1.0 only when told. */
	if (!rq->keep_alive)
		conn = "Connection: close\r\n";
	else if (rq->http10)
		conn = "Connection: keep-alive\r\n";

	/* An origin server with a clock must send Date (RFC 9110 6.6.1). */
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&now, &tm));
	return snprintf(buf, size,
			"HTTP/1.1 %d %s\r\n"
			"Date: %s\r\n"
			"Server: zchttpd\r\n"
			"Content-Type: %s\r\n"
			"Content-Length: %llu\r\n"
			"%s%s\r\n",
			status, reason(status), date, type, (unsigned long long)length, extra,
			conn);
}

/* A response whose body is a line of text: errors. Two memory segments. */
static int send_error(int sock, const struct request *rq, int status, const char *extra)
{
	char hdr[512], body[64];
	struct zc_stats tot = { 0 };
	int blen = snprintf(body, sizeof(body), "%d %s\n", status, reason(status));
	int hlen =
		format_head(hdr, sizeof(hdr), rq, status, "text/plain; charset=utf-8", blen, extra);
	struct zcopy_seg segs[2] = { zc_seg_mem(hdr, hlen), zc_seg_mem(body, blen) };

	n_responses++;
	if (verbose)
		fprintf(stderr, "zchttpd: %s %s %d\n", rq->method ? rq->method : "-",
			rq->target ? rq->target : "-", status);
	return send_vector(sock, segs, rq->head ? 1 : 2, &tot);
}

/* Digits to a number, saturating (a huge number is only ever too big). */
static bool parse_u64(const char **p, uint64_t *v)
{
	const char *s = *p;

	*v = 0;
	for (; *s >= '0' && *s <= '9'; s++)
		*v = *v > (UINT64_MAX - 9) / 10 ? UINT64_MAX : *v * 10 + (uint64_t)(*s - '0');
	if (s == *p)
		return false;
	*p = s;
	return true;
}

/*
 * A Range value against a file of @size bytes. 206 with [*first, *last]
 * set; 416 when the range holds no byte of the file; 200 (the whole file)
 * for everything else: a unit other than bytes, a value that does not
 * parse (RFC 9110 14.2 lets a server ignore it), and several ranges.
 * Those could be answered too, as multipart/byteranges: still one
 * zc_sendv(), of a part header and a file segment per range and a closing
 * boundary.
 */
static int parse_range(const char *v, uint64_t size, uint64_t *first, uint64_t *last)
{
	uint64_t a, b;
	bool has_a, has_b;

	if (!v || strncasecmp(v, "bytes=", 6) || strchr(v, ','))
		return 200;
	v += 6;
	has_a = parse_u64(&v, &a);
	if (*v++ != '-')
		return 200;
	has_b = parse_u64(&v, &b);
	if (*v || (!has_a && !has_b) || (has_a && has_b && b < a))
		return 200;
	if (has_a) { /* a-b, a- */
		if (a >= size)
			return 416;
		*first = a;
		*last = has_b && b < size - 1 ? b : size - 1;
	} else { /* -n: the last n bytes */
		if (b == 0 || size == 0)
			return 416;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
	}
	return 206;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * The target's path, percent-decoded, into @out, relative to ROOT (no
 * leading '/'). The checks come after decoding, so no escape can hide
 * from them: %2F is just a '/', %2e%2e is "..". Any ".." component is
 * refused (400) before openat2(2) even sees it, %00 and a broken escape
 * too. Returns 0 or an HTTP status.
 */
static int decode_path(const char *target, char *out, size_t size)
{
	size_t n = 0;
	const char *s;

	if (target[0] != '/')
		return 400; /* origin form only */
	for (s = target; *s && *s != '?' && *s != '#'; s++) {
		char c = *s;

		if (c == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return 400;
			c = (char)(hi << 4 | lo);
			s += 2;
		}
		if (n + sizeof("index.html") >= size)
			return 404; /* longer than any path: there is no such file */
		out[n++] = c;
	}
	out[n] = '\0';
	for (s = out; (s = strstr(s, "..")); s += 2)
		if ((s == out || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
			return 400;
	if (out[n - 1] == '/')
		strcpy(out + n, "index.html");
	/* openat2(RESOLVE_BENEATH) takes no absolute path: drop the '/'s. */
	s = out + strspn(out, "/");
	memmove(out, s, strlen(s) + 1);
	return 0;
}

/*
 * Open a path beneath ROOT. RESOLVE_BENEATH makes the kernel refuse
 * (EXDEV) any resolution that would leave ROOT: "..", an absolute
 * symlink, a relative one climbing out. RESOLVE_NO_MAGICLINKS refuses
 * /proc/PID/fd-style links. O_NONBLOCK: opening a FIFO must not wait for
 * a writer (it is then refused as not a regular file).
 */
static int open_beneath(const char *path)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};

	/* glibc 2.36 has no openat2() wrapper. */
	return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

/* The status for a failed open_beneath(). */
static int open_status(int err)
{
	if (err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG)
		return 404;
	/* EXDEV: a way out of ROOT; ELOOP: a magic link; ENXIO: a socket. */
	if (err == EXDEV || err == ELOOP || err == EACCES || err == EPERM || err == ENXIO)
		return 403;
	return 500; /* ENOSYS among others: a kernel before 5.6 has no openat2() */
}

/* GET and HEAD: the file, or a range of it, after the header. */
static int serve_file(int sock, const struct request *rq)
{
	char path[PATH_MAX], hdr[1024], extra[128] = "";
	struct zc_stats tot = { 0 };
	struct zcopy_seg segs[3];
	uint64_t first = 0, last = 0, size, len;
	unsigned int n = 0;
	struct stat st;
	int status, fd, hlen, ret;

	status = decode_path(rq->target, path, sizeof(path));
	if (status)
		return send_error(sock, rq, status, "");
	fd = open_beneath(path);
	if (fd < 0)
		return send_error(sock, rq, open_status(errno), "");
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return send_error(sock, rq, 403, "");
	}
	fcntl(fd, F_SETFL, 0); /* a regular file after all: blocking reads */
	size = (uint64_t)st.st_size;

	/* Range is defined for GET only; If-Range we cannot match (we send no validators). */
	status = rq->head || rq->if_range ? 200 : parse_range(rq->range, size, &first, &last);
	if (status == 416) {
		close(fd);
		snprintf(extra, sizeof(extra), "Content-Range: bytes */%llu\r\n",
			 (unsigned long long)size);
		return send_error(sock, rq, 416, extra);
	}
	if (status == 206) {
		len = last - first + 1;
		snprintf(extra, sizeof(extra),
			 "Accept-Ranges: bytes\r\nContent-Range: bytes %llu-%llu/%llu\r\n",
			 (unsigned long long)first, (unsigned long long)last,
			 (unsigned long long)size);
	} else {
		first = 0;
		len = size;
		strcpy(extra, "Accept-Ranges: bytes\r\n");
	}
	hlen = format_head(hdr, sizeof(hdr), rq, status, content_type(path), len, extra);

	/*
	 * The response, as one vector and one call: the header from memory
	 * (copied), the range of the file (lent by reference from the page
	 * cache). HEAD stops after the header.
	 */
	segs[n++] = zc_seg_mem(hdr, hlen);
	if (!rq->head && len)
		segs[n++] = zc_seg_file(fd, first, len);
	/*
	 * A trailer would be one more segment, in the same call: the last
	 * chunk of a chunked body, the closing boundary of a multipart one:
	 *	segs[n++] = zc_seg_mem("\r\n0\r\n\r\n", 7);
	 */
	ret = send_vector(sock, segs, n, &tot);
	close(fd);

	n_responses++;
	if (!rq->head)
		n_file += len;
	if (verbose)
		fprintf(stderr,
			"zchttpd: %s %s %d, %d + %llu bytes: %llu zero-copy, %llu copied%s%s\n",
			rq->method, rq->target, status, hlen,
			(unsigned long long)(rq->head ? 0 : len), (unsigned long long)tot.zc_bytes,
			(unsigned long long)tot.copied_bytes, use_fallback ? " (fallback)" : "",
			ret ? " (incomplete)" : "");
	return ret;
}

/* Does a comma-separated list (Connection's value) hold @token? */
static bool has_token(const char *list, const char *token)
{
	size_t len = strlen(token);

	for (const char *s = list; *s; s += strcspn(s, ",")) {
		s += strspn(s, ", \t");
		if (!strncasecmp(s, token, len) && strchr(", \t", s[len]))
			return true;
	}
	return false;
}

/* Answer a request that cannot be served with @status; the connection ends. */
static int refuse(struct conn *c, struct request *rq, int status)
{
	rq->keep_alive = false;
	send_error(c->fd, rq, status, "");
	return -1;
}

/*
 * One request, ending at buf[@end] (just past its empty line): parse it
 * in place and answer. Returns 0 to go on with the connection, -1 to close.
 */
static int handle(struct conn *c, size_t end)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	struct request rq = { .keep_alive = false };
	char *line = c->buf, *next, *sp1, *sp2;
	bool close_req = false, keep_req = false, body = false;
	int hosts = 0;

	c->buf[end - 2] = '\0'; /* the empty line's CRLF; each line ends in CRLF */
	next = strstr(line, "\r\n");
	*next = '\0';
	next += 2;

	/* The request line: method SP target SP version. */
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strchr(sp2 + 1, ' ') || sp1 == line || sp2 == sp1 + 1)
		return refuse(c, &rq, 400);
	*sp1 = *sp2 = '\0';
	rq.method = line;
	rq.target = sp1 + 1;
	if (line[strspn(line, tchar)] != '\0')
		return refuse(c, &rq, 400);
	if (!strcmp(sp2 + 1, "HTTP/1.0"))
		rq.http10 = true;
	else if (strcmp(sp2 + 1, "HTTP/1.1"))
		return refuse(c, &rq, strncmp(sp2 + 1, "HTTP/", 5) ? 400 : 505);

	/* Header fields: name ":" OWS value OWS. */
	for (line = next; *line; line = next) {
		char *colon, *v, *e;

		next = strstr(line, "\r\n");
		*next = '\0';
		next += 2;
		colon = strchr(line, ':');
		/* No name, white space in it, or obsolete line folding: 400. */
		if (!colon || colon == line || strcspn(line, " \t") < (size_t)(colon - line))
			return refuse(c, &rq, 400);
		*colon = '\0';
		v = colon + 1 + strspn(colon + 1, " \t");
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
			e[-1] = '\0';
		if (!strcasecmp(line, "Host")) {
			hosts++;
		} else if (!strcasecmp(line, "Connection")) {
			close_req |= has_token(v, "close");
			keep_req |= has_token(v, "keep-alive");
		} else if (!strcasecmp(line, "Range")) {
			rq.range = v;
		} else if (!strcasecmp(line, "If-Range")) {
			rq.if_range = true;
		} else if (!strcasecmp(line, "Transfer-Encoding") ||
			   (!strcasecmp(line, "Content-Length") && strcmp(v, "0"))) {
			body = true;
		}
	}
	/*
	 * HTTP/1.1 keeps the connection unless told to close; 1.0 closes
	 * unless told to keep it. A body we do not read would be taken for
	 * the next request: answer, then close.
	 */
	rq.keep_alive = !close_req && (!rq.http10 || keep_req) && !body;
	if (hosts > 1 || (!rq.http10 && hosts != 1))
		return refuse(c, &rq, 400);

	rq.head = !strcmp(rq.method, "HEAD");
	if (rq.head || !strcmp(rq.method, "GET")) {
		if (serve_file(c->fd, &rq))
			return -1;
	} else {
		static const char *const known[] = { "POST",	"PUT",	 "DELETE", "OPTIONS",
						     "CONNECT", "TRACE", "PATCH" };
		int status = 501;

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (!strcmp(rq.method, known[i]))
				status = 405;
		if (send_error(c->fd, &rq, status, status == 405 ? "Allow: GET, HEAD\r\n" : ""))
			return -1;
	}
	return rq.keep_alive ? 0 : -1;
}

/*
 * Read until buf holds a whole request head (up to its empty line).
 * Returns the offset just past it; 0 when the connection ends (EOF, error,
 * idle timeout); -1 when the head does not fit REQ_MAX.
 */
static ssize_t read_head(struct conn *c)
{
	for (;;) {
		char *end;
		ssize_t r;

		/* RFC 9112 2.2: ignore empty lines before a request line. */
		while (c->len >= 2 && c->buf[0] == '\r' && c->buf[1] == '\n')
			memmove(c->buf, c->buf + 2, c->len -= 2);
		end = memmem(c->buf, c->len, "\r\n\r\n", 4);
		if (end)
			return end + 4 - c->buf;
		if (c->len == REQ_MAX)
			return -1;
		r = recv(c->fd, c->buf + c->len, REQ_MAX - c->len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return 0;
		c->len += r;
	}
}

static void *serve_conn(void *arg)
{
	struct conn *c = arg;
	struct request none = { 0 };
	struct timeval tv = { .tv_sec = IDLE_SECS };
	ssize_t end;

	/* A client that stops sending or stops reading is dropped. */
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while ((end = read_head(c)) > 0) {
		/* Make the head a string: a NUL ends any string search in it. */
		char save = c->buf[end];

		c->buf[end] = '\0';
		if (memchr(c->buf, '\0', end)) {
			send_error(c->fd, &none, 400, "");
			break;
		}
		if (handle(c, end))
			break;
		/* Pipelining: what came after this request is the next one. */
		c->buf[end] = save;
		memmove(c->buf, c->buf + end, c->len - end);
		c->len -= end;
	}
	if (end < 0)
		send_error(c->fd, &none, 431, "");
	/*
	 * Close gently: stop sending, then read what the client still sends
	 * until it closes (within bounds). Closing with unread bytes queued (a
	 * pipelined request, a body) makes the kernel answer with a RST, which
	 * can destroy the response at the client before it was read.
	 */
	shutdown(c->fd, SHUT_WR);
	tv.tv_sec = 2;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = 0; i < 128 && recv(c->fd, c->buf, sizeof(c->buf), 0) > 0; i++)
		;
	close(c->fd);
	free(c);
	return NULL;
}

/* SIGINT, SIGTERM: say where the bytes went, and exit. */
static void *wait_signal(void *arg)
{
	int sig;

	sigwait(arg, &sig);
	fprintf(stderr,
		"zchttpd: %llu responses, %llu bytes sent (%llu of files): "
		"%llu zero-copy, %llu copied, %llu by the fallback\n",
		(unsigned long long)n_responses, (unsigned long long)n_sent,
		(unsigned long long)n_file, (unsigned long long)n_zc, (unsigned long long)n_copied,
		(unsigned long long)n_fallback);
	exit(0);
}

static int listen_on(const char *addr, const char *port)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai;
	int fd, one = 1, err = getaddrinfo(addr, port, &hints, &ai);

	if (err) {
		fprintf(stderr, "zchttpd: %s port %s: %s\n", addr, port, gai_strerror(err));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
		fprintf(stderr, "zchttpd: %s port %s: %s\n", addr, port, strerror(errno));
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1", *port = "8080";
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t sigs;
	int opt, lfd;

	while ((opt = getopt(argc, argv, "p:b:v")) != -1) {
		if (opt == 'p')
			port = optarg;
		else if (opt == 'b')
			addr = optarg;
		else if (opt == 'v')
			verbose = true;
		else
			goto usage;
	}
	if (optind != argc - 1)
		goto usage;
	root_fd = open(argv[optind], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		fprintf(stderr, "zchttpd: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	lfd = listen_on(addr, port);
	if (lfd < 0)
		return 1;

	/*
	 * SIGINT and SIGTERM go to one thread that waits for them: blocked
	 * here, before any thread starts, they stay blocked in all others.
	 * SIGPIPE is ignored: sendfile(2) in the fallback has no MSG_NOSIGNAL.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, wait_signal, &sigs))
		return 1;
	fprintf(stderr, "zchttpd: serving %s on %s port %s\n", argv[optind], addr, port);

	for (;;) {
		struct conn *c;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				sleep(1); /* out of descriptors: let connections end */
			continue;
		}
		c = malloc(sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		if (pthread_create(&tid, &attr, serve_conn, c)) {
			close(fd);
			free(c);
		}
	}

usage:
	fprintf(stderr, "Usage: zchttpd [-p PORT] [-b ADDR] [-v] ROOT\n"
			"Serve the files under ROOT over HTTP/1.1 (default 127.0.0.1 port 8080),\n"
			"each response in one zc_sendv() call.\n");
	return 2;
}
