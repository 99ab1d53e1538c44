/* SPDX-License-Identifier: BSD-3-Clause */
/* Driver for the kernel's sample mdev mtty (contract: include/dmakit/mtty.h). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define DK_LOG_COMPONENT "mtty"
#include <dmakit/bus.h>
#include <dmakit/log.h>
#include <dmakit/mtty.h>
#include <dmakit/vfio.h>

/* 16550 registers (byte offsets in a port's BAR); DLL/DLM while LCR.DLAB is set. */
#define R_RBR 0 /* read: receiver buffer; write: transmitter holding (THR) */
#define R_THR 0
#define R_DLL 0
#define R_IER 1
#define R_DLM 1
#define R_IIR 2 /* read */
#define R_FCR 2 /* write */
#define R_LCR 3
#define R_MCR 4
#define R_LSR 5
#define R_SCR 7

#define IER_RDI 0x01u
#define IER_THRI 0x02u
#define IIR_NO_INT 0x01u
#define IIR_RDI 0x04u
#define FCR_ENABLE 0x01u
#define FCR_CLEAR_RX 0x02u
#define FCR_CLEAR_TX 0x04u /* trigger level bits 6..7 left 0: one byte */
#define LCR_8N1 0x03u
#define LCR_DLAB 0x80u
#define MCR_DTR_RTS_OUT2 0x0bu

#define IRQ_TEST_MS 50 /* the sample signals during the register write */

struct dk_mtty {
	struct dk_pci_device *dev;
	pthread_mutex_t lock;
	unsigned int nports;
	int efd; /* -1: no interrupt */
	enum dk_mtty_irq irq;
	uint64_t irqs;
	int rx_pending[DK_MTTY_MAX_PORTS]; /* a receive interrupt not waited for yet */
	unsigned int fill[DK_MTTY_MAX_PORTS]; /* bytes sent and not received yet */
};


static const char *const g_irq_names[] = {"none", "INTx", "MSI"};

static int rd(struct dk_mtty *m, unsigned int port, unsigned int reg, uint8_t *v)
{
	return dk_pci_mmio_read8(m->dev, port, reg, v);
}

static int wr(struct dk_mtty *m, unsigned int port, unsigned int reg, uint8_t v)
{
	return dk_pci_mmio_write8(m->dev, port, reg, v);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int check_port(const struct dk_mtty *m, unsigned int port, const char *what)
{
	if (port < m->nports)
		return 0;
	DK_DEV_ERR(&m->dev->device, "%s: port %u out of range: this mtty has %u port%s (0..%u)",
		   what, port, m->nports, m->nports == 1 ? "" : "s", m->nports - 1);
	return -EINVAL;
}

/* FIFO on and cleared, 115200 8N1 (divisor 1), DTR/RTS/OUT2, no interrupt yet. */
static int port_setup(struct dk_mtty *m, unsigned int port)
{
	static const uint8_t seq[][2] = {
	    {R_IER, 0},
	    {R_FCR, FCR_ENABLE | FCR_CLEAR_RX | FCR_CLEAR_TX},
	    {R_LCR, LCR_DLAB},
	    {R_DLL, 1},
	    {R_DLM, 0},
	    {R_LCR, LCR_8N1},
	    {R_MCR, MCR_DTR_RTS_OUT2},
	};
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		int rc = wr(m, port, seq[i][0], seq[i][1]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Count what the eventfd holds; note which ports report received data. */
static void irq_drain(struct dk_mtty *m)
{
	uint64_t n = 0;
	if (m->efd < 0 || read(m->efd, &n, sizeof(n)) != (ssize_t)sizeof(n) || !n)
		return;
	m->irqs += n;
	for (unsigned int p = 0; p < m->nports; p++) {
		uint8_t iir;
		if (rd(m, p, R_IIR, &iir) == 0 && !(iir & IIR_NO_INT) && (iir & IIR_RDI))
			m->rx_pending[p] = 1;
	}
	if (m->irq == DK_MTTY_IRQ_INTX) /* automasked by VFIO: take the next one */
		dk_vfio_irq_unmask(dk_pci_vfio_device(m->dev), DK_VFIO_IRQ_INTX, 0);
}

/* Sleep until the eventfd is readable or ms have passed (1 ms naps without one). */
static void irq_sleep(struct dk_mtty *m, int64_t ms)
{
	if (m->efd >= 0) {
		struct pollfd pfd = {.fd = m->efd, .events = POLLIN};
		poll(&pfd, 1, (int)(ms < 100 ? ms : 100));
	} else {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

/*
 * Does interrupt index deliver through efd? Writing IER.THRI with port 0's
 * FIFO empty raises the interrupt at once; IER goes back to 0.
 */
static int irq_works(struct dk_mtty *m, uint32_t index, int efd, uint64_t *got)
{
	struct dk_vfio_device *vd = dk_pci_vfio_device(m->dev);
	uint64_t n = 0;
	if (dk_vfio_irq_enable(vd, index, &efd, 1) < 0)
		return 0;
	if (wr(m, 0, R_IER, IER_THRI) < 0 || wr(m, 0, R_IER, 0) < 0)
		return 0;
	struct pollfd pfd = {.fd = efd, .events = POLLIN};
	if (poll(&pfd, 1, IRQ_TEST_MS) == 1 && read(efd, &n, sizeof(n)) == (ssize_t)sizeof(n))
		*got = n;
	if (index == DK_VFIO_IRQ_INTX)
		dk_vfio_irq_unmask(vd, index, 0);
	return n > 0;
}

/* Try index: 1 and the eventfd in m when it signals, 0 otherwise. */
static int irq_try(struct dk_mtty *m, uint32_t index, enum dk_mtty_irq mode)
{
	struct dk_vfio_irq_info info;
	struct dk_vfio_device *vd = dk_pci_vfio_device(m->dev);
	if (!vd || dk_vfio_irq_info(vd, index, &info) < 0 || info.count < 1 ||
	    !(info.flags & DK_VFIO_IRQ_EVENTFD))
		return 0;
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (efd < 0) {
		DK_DEV_WARN(&m->dev->device, "eventfd: %s: receiving by polling", strerror(errno));
		return 0;
	}
	uint64_t n = 0;
	if (!irq_works(m, index, efd, &n)) {
		/* Not disabled through VFIO: see the header (the sample keeps using it). */
		DK_DEV_INFO(&m->dev->device,
			    "%s enabled but no interrupt arrived (the Linux 6.1 sample takes an MSI eventfd once per instance)",
			    g_irq_names[mode]);
		close(efd);
		return 0;
	}
	m->efd = efd;
	m->irq = mode;
	m->irqs = n;
	return 1;
}

/* MSI, else INTx, else polling; with an interrupt, RDI armed on every port. */
static int irq_setup(struct dk_mtty *m)
{
	if (!irq_try(m, DK_VFIO_IRQ_MSI, DK_MTTY_IRQ_MSI) &&
	    !irq_try(m, DK_VFIO_IRQ_INTX, DK_MTTY_IRQ_INTX)) {
		DK_DEV_INFO(&m->dev->device, "no interrupt signals: receiving by polling LSR");
		return 0;
	}
	for (unsigned int p = 0; p < m->nports; p++) {
		int rc = wr(m, p, R_IER, IER_RDI);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* BAR p must be an 8-byte read/write region for port p. */
static int count_ports(struct dk_mtty *m)
{
	const uint32_t rw = DK_PCI_REGION_READ | DK_PCI_REGION_WRITE;
	struct dk_pci_region r;
	int rc = dk_pci_region_info(m->dev, 0, &r);
	if (rc < 0)
		return rc;
	if (r.size < 8 || (r.flags & rw) != rw) {
		DK_DEV_ERR(&m->dev->device,
			   "BAR0 is %llu bytes, flags %#x: not the 8 read/write bytes of an mtty port (is this the kernel's mtty sample?)",
			   (unsigned long long)r.size, r.flags);
		return -EIO;
	}
	m->nports = 1;
	if (dk_pci_region_info(m->dev, 1, &r) == 0 && r.size >= 8 && (r.flags & rw) == rw)
		m->nports = 2;
	return 0;
}

static void quiesce(struct dk_mtty *m)
{
	for (unsigned int p = 0; p < m->nports; p++)
		wr(m, p, R_IER, 0);
	if (m->efd >= 0)
		close(m->efd);
	m->efd = -1;
}

static int mtty_attach(struct dk_pci_device *dev, struct dk_mtty **out)
{
	struct dk_mtty *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->dev = dev;
	m->efd = -1;
	pthread_mutex_init(&m->lock, NULL);
	int rc = count_ports(m);
	for (unsigned int p = 0; rc == 0 && p < m->nports; p++)
		rc = port_setup(m, p);
	if (rc == 0)
		rc = irq_setup(m);
	if (rc < 0)
		goto fail_setup;
	DK_DEV_INFO(&dev->device, "mtty with %u port%s, interrupt %s", m->nports,
		    m->nports == 1 ? "" : "s", g_irq_names[m->irq]);
	*out = m;
	return 0;
fail_setup:
	quiesce(m);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return rc;
}

static void mtty_detach(struct dk_mtty *m)
{
	quiesce(m);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

int dk_mtty_open(struct dk_pci_device *dev, struct dk_mtty **out)
{
	if (!dev || !out) {
		DK_ERR("dk_mtty_open: NULL %s", dev ? "output" : "device");
		return -EINVAL;
	}
	if (dev->id.vendor_id != DK_MTTY_VENDOR || dev->id.device_id != DK_MTTY_DEVICE) {
		DK_ERR("%s is %04x:%04x, not an mtty device (%04x:%04x): create an mtty-1 or mtty-2 instance (dk_mdev_create) and open that",
		       dev->device.name, dev->id.vendor_id, dev->id.device_id, DK_MTTY_VENDOR,
		       DK_MTTY_DEVICE);
		return -ENODEV;
	}
	int rc = dk_pci_vfio_open(dev);
	if (rc < 0)
		return rc;
	rc = mtty_attach(dev, out);
	if (rc < 0)
		dk_pci_vfio_close(dev);
	return rc;
}

void dk_mtty_close(struct dk_mtty *m)
{
	if (!m)
		return;
	struct dk_pci_device *dev = m->dev;
	mtty_detach(m);
	dk_pci_vfio_close(dev);
}

int dk_mtty_port_count(const struct dk_mtty *m)
{
	return m ? (int)m->nports : -EINVAL;
}

enum dk_mtty_irq dk_mtty_irq_mode(const struct dk_mtty *m)
{
	return m ? m->irq : DK_MTTY_IRQ_NONE;
}

uint64_t dk_mtty_irq_count(const struct dk_mtty *m)
{
	return m ? m->irqs : 0;
}

/* Lock m after checking the arguments every call shares. */
static int enter(struct dk_mtty *m, unsigned int port, const void *p, const char *what)
{
	if (!m || !p) {
		DK_ERR("%s: NULL %s", what, m ? "buffer" : "mtty");
		return -EINVAL;
	}
	int rc = check_port(m, port, what);
	if (rc == 0)
		pthread_mutex_lock(&m->lock);
	return rc;
}

static int leave(struct dk_mtty *m, int rc)
{
	pthread_mutex_unlock(&m->lock);
	return rc;
}

int dk_mtty_send(struct dk_mtty *m, unsigned int port, const void *buf, size_t len)
{
	int rc = enter(m, port, buf, "dk_mtty_send");
	if (rc < 0)
		return rc;
	if (!len || len > INT32_MAX) {
		DK_DEV_ERR(&m->dev->device, "dk_mtty_send: %zu bytes: give 1..INT_MAX", len);
		return leave(m, -EINVAL);
	}
	const uint8_t *b = buf;
	size_t taken = 0, room = DK_MTTY_FIFO_MAX - m->fill[port];
	uint8_t lsr = 0;
	for (; taken < len && taken < room; taken++) {
		rc = wr(m, port, R_THR, b[taken]);
		if (rc == 0)
			rc = rd(m, port, R_LSR, &lsr);
		if (rc < 0)
			return leave(m, rc);
		if (lsr & DK_MTTY_LSR_OE)
			break;
	}
	m->fill[port] += (unsigned int)taken;
	irq_drain(m);
	if (!taken) {
		DK_DEV_ERR(&m->dev->device,
			   "port %u: the FIFO is full (%u bytes): receive (dk_mtty_recv) before sending more",
			   port, m->fill[port]);
		return leave(m, -ENOBUFS);
	}
	return leave(m, (int)taken);
}

/* Read while LSR.DR, up to len bytes; *n gets the count. */
static int drain_rx(struct dk_mtty *m, unsigned int port, uint8_t *b, size_t len, size_t *n)
{
	uint8_t lsr;
	int rc = rd(m, port, R_LSR, &lsr);
	while (rc == 0 && (lsr & DK_MTTY_LSR_DR) && *n < len) {
		rc = rd(m, port, R_RBR, &b[(*n)++]);
		if (rc == 0)
			rc = rd(m, port, R_LSR, &lsr);
	}
	m->fill[port] -= *n < m->fill[port] ? (unsigned int)*n : m->fill[port];
	if (rc == 0 && !(lsr & DK_MTTY_LSR_DR)) {
		m->rx_pending[port] = 0;
		m->fill[port] = 0;
	}
	return rc;
}

/*
 * Call step until it returns non-zero (its result, or a negative errno), draining
 * the eventfd before each try and sleeping between tries. 0 when timeout_ms pass.
 */
static int wait_for(struct dk_mtty *m, int timeout_ms, int (*step)(struct dk_mtty *, void *),
		    void *arg)
{
	int64_t deadline = now_ms() + timeout_ms;
	for (;;) {
		irq_drain(m);
		int rc = step(m, arg);
		if (rc)
			return rc;
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return 0;
		irq_sleep(m, left);
	}
}

struct rx_req {
	unsigned int port;
	uint8_t *buf;
	size_t len;
};

/* Bytes read (0: none ready) or a negative errno. */
static int rx_step(struct dk_mtty *m, void *arg)
{
	struct rx_req *r = arg;
	size_t n = 0;
	int rc = drain_rx(m, r->port, r->buf, r->len, &n);
	return rc < 0 ? rc : (int)n;
}

/* 1 (consumed) when the port has a receive interrupt pending, else 0. */
static int irq_step(struct dk_mtty *m, void *arg)
{
	unsigned int port = *(unsigned int *)arg;
	int pending = m->rx_pending[port];
	m->rx_pending[port] = 0;
	return pending;
}

int dk_mtty_recv(struct dk_mtty *m, unsigned int port, void *buf, size_t len, int timeout_ms)
{
	int rc = enter(m, port, buf, "dk_mtty_recv");
	if (rc < 0)
		return rc;
	if (!len || len > INT32_MAX || timeout_ms < 0) {
		DK_DEV_ERR(&m->dev->device,
			   "dk_mtty_recv: length %zu, timeout %d ms: give a length of 1..INT_MAX and a timeout >= 0",
			   len, timeout_ms);
		return leave(m, -EINVAL);
	}
	struct rx_req req = {.port = port, .buf = buf, .len = len};
	rc = wait_for(m, timeout_ms, rx_step, &req);
	if (rc)
		return leave(m, rc);
	DK_DEV_ERR(&m->dev->device,
		   "port %u: nothing received within %d ms: send bytes first (dk_mtty_send); the sample's receiver only returns what its transmitter was given",
		   port, timeout_ms);
	return leave(m, -ETIMEDOUT);
}

int dk_mtty_line_status(struct dk_mtty *m, unsigned int port, uint8_t *lsr)
{
	int rc = enter(m, port, lsr, "dk_mtty_line_status");
	if (rc < 0)
		return rc;
	return leave(m, rd(m, port, R_LSR, lsr));
}

int dk_mtty_scratch_test(struct dk_mtty *m, unsigned int port)
{
	int rc = enter(m, port, m, "dk_mtty_scratch_test");
	if (rc < 0)
		return rc;
	const uint8_t pat[] = {0x55, 0xaa, 0x00, 0xff, (uint8_t)port};
	uint8_t old = 0, v = 0;
	rc = rd(m, port, R_SCR, &old);
	for (size_t i = 0; rc == 0 && i < sizeof(pat); i++) {
		rc = wr(m, port, R_SCR, pat[i]);
		if (rc == 0)
			rc = rd(m, port, R_SCR, &v);
		if (rc == 0 && v != pat[i]) {
			DK_DEV_ERR(&m->dev->device,
				   "port %u: the scratch register reads %#04x after writing %#04x: not a working 16550 (check the mtty module)",
				   port, v, pat[i]);
			rc = -EIO;
		}
	}
	if (rc != -EIO && rc < 0)
		return leave(m, rc);
	int rrc = wr(m, port, R_SCR, old);
	return leave(m, rc < 0 ? rc : rrc);
}

int dk_mtty_wait_rx(struct dk_mtty *m, unsigned int port, int timeout_ms)
{
	int rc = enter(m, port, m, "dk_mtty_wait_rx");
	if (rc < 0)
		return rc;
	if (timeout_ms < 0) {
		DK_DEV_ERR(&m->dev->device, "dk_mtty_wait_rx: timeout %d ms: give 0 or more",
			   timeout_ms);
		return leave(m, -EINVAL);
	}
	if (m->efd < 0) {
		DK_DEV_ERR(&m->dev->device,
			   "no interrupt signals on this device (see the open's log): use dk_mtty_recv, which polls");
		return leave(m, -ENOTSUP);
	}
	rc = wait_for(m, timeout_ms, irq_step, &port);
	if (rc)
		return leave(m, rc < 0 ? rc : 0);
	DK_DEV_ERR(&m->dev->device,
		   "port %u: no receive interrupt (%s) within %d ms: the sample raises it when a byte enters an empty FIFO, so send one first",
		   port, g_irq_names[m->irq], timeout_ms);
	return leave(m, -ETIMEDOUT);
}

/* ---- the PCI driver ------------------------------------------------------ */

static int probe(struct dk_pci_driver *drv, struct dk_pci_device *dev)
{
	(void)drv;
	struct dk_mtty *m;
	int rc = mtty_attach(dev, &m);
	if (rc < 0)
		return rc;
	dev->device.driver_data = m;
	return 0;
}

static int remove_dev(struct dk_pci_device *dev)
{
	struct dk_mtty *m = dev->device.driver_data;
	if (!m)
		return -ENODEV;
	mtty_detach(m);
	return 0;
}

static const struct dk_pci_id_match g_ids[] = {
	DK_PCI_DEVICE(DK_MTTY_VENDOR, DK_MTTY_DEVICE),
	{.vendor_id = 0},
};

static struct dk_pci_driver g_drv = {
	.driver = {.name = "mtty"},
	.id_table = g_ids,
	.flags = DK_PCI_DRV_NEED_VFIO,
	.probe = probe,
	.remove = remove_dev,
};

int dk_mtty_driver_register(void)
{
	return dk_pci_driver_register(&g_drv);
}

int dk_mtty_driver_unregister(void)
{
	return dk_pci_driver_unregister(&g_drv);
}

struct dk_mtty *dk_mtty_get(const struct dk_pci_device *dev)
{
	struct dk_mtty *m = dev && dev->device.driver == &g_drv.driver ? dev->device.driver_data
								     : NULL;
	if (!m)
		errno = ENOENT;
	return m;
}
