/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VFIO groups: one open /dev/vfio/<N> per group and process, in a global
 * table with a reference count; viability check with a message naming the
 * members that block the group (the rule: vfio/vfio_viable.h); attach to a
 * container.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "core/sysfs.h"
#include "vfio/vfio_internal.h"
#include "vfio/vfio_viable.h"

#define DK_LOG_COMPONENT "vfio"
#include "core/log_internal.h"

static struct dk_vfio_group *g_groups; /* under dk__vfio_lock */

/* Appends "unbind <member> from <driver> or bind it to vfio-pci (...)" to a buffer. */
struct blocker_msg {
	char *buf;
	size_t len, o;
	int n;
};

static void add_blocker(const char *member, const char *driver, void *arg)
{
	struct blocker_msg *m = arg;
	if (m->buf && m->o < m->len)
		m->o += (size_t)snprintf(m->buf + m->o, m->len - m->o,
					 "%sunbind %s from %s or bind it to vfio-pci (dmakit bind %s)",
					 m->n ? "; " : "", member, driver, member);
	m->n++;
}

int dk__vfio_group_blockers(int group, char *buf, size_t len)
{
	struct blocker_msg m = {.buf = buf, .len = len};
	if (buf && len)
		buf[0] = '\0';
	return dk__vfio_group_foreach_blocker(group, add_blocker, &m);
}

static int open_group_fd(int number)
{
	char path[64];
	snprintf(path, sizeof(path), "/dev/vfio/%d", number);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	int e = errno;
	switch (e) {
	case ENOENT:
		DK_ERR("no %s: bind a device of IOMMU group %d to vfio-pci (dmakit bind <BDF> vfio-pci; members in %s/kernel/iommu_groups/%d/devices)",
		       path, number, dk_sysfs_root(), number);
		break;
	case EACCES:
	case EPERM:
		DK_ERR("cannot open %s: %s: run as root or give your user access (chown it)", path,
		       strerror(e));
		e = EACCES;
		break;
	case EBUSY:
		DK_ERR("%s is busy: another process (or another container of this one) has group %d open, or a device of it is open through its cdev (the iommufd backend): close that first",
		       path, number);
		break;
	default:
		DK_ERR("cannot open %s: %s", path, strerror(e));
	}
	return -e;
}

static int check_viable(int fd, int number)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st) < 0) {
		int e = errno;
		DK_ERR("group %d: VFIO_GROUP_GET_STATUS: %s", number, strerror(e));
		return -e;
	}
	if (st.flags & VFIO_GROUP_FLAGS_VIABLE)
		return 0;
	char msg[1024];
	int n = dk__vfio_group_blockers(number, msg, sizeof(msg));
	if (n > 0)
		DK_ERR("group %d is not viable: %s", number, msg);
	else
		DK_ERR("group %d is not viable: bind every member of %s/kernel/iommu_groups/%d/devices to vfio-pci or unbind it",
		       number, dk_sysfs_root(), number);
	return -EPERM;
}

struct dk_vfio_group *dk_vfio_group_open(struct dk_vfio_container *c, int number)
{
	if (number < 0) {
		DK_ERR("IOMMU group %d: the device has no IOMMU group (enable the IOMMU: intel_iommu=on / amd_iommu=on)",
		       number);
		errno = EINVAL;
		return NULL;
	}
	if (!c && !(c = dk_vfio_container_default()))
		return NULL;
	if (c->backend == DK_VFIO_BACKEND_IOMMUFD) {
		DK_ERR("IOMMU group %d: groups join VFIO containers, not an IOAS: open the device itself in the IOAS (dk_vfio_device_open)",
		       number);
		errno = EINVAL;
		return NULL;
	}
	int rc;
	pthread_mutex_lock(&dk__vfio_lock);
	struct dk_vfio_group *g;
	for (g = g_groups; g; g = g->next) {
		if (g->number != number)
			continue;
		if (g->c != c) {
			DK_ERR("group %d is already open in another container of this process: use that container (a group joins one container)",
			       number);
			rc = -EBUSY;
			goto err_unlock;
		}
		g->refs++;
		pthread_mutex_unlock(&dk__vfio_lock);
		return g;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		rc = -ENOMEM;
		goto err_unlock;
	}
	g->number = number;
	g->c = c;
	g->refs = 1;
	g->fd = open_group_fd(number);
	if (g->fd < 0) {
		rc = g->fd;
		goto err_free;
	}
	if ((rc = check_viable(g->fd, number)) < 0)
		goto err_close;
	int first = c->ngroups == 0; /* attaches are serialised by dk__vfio_lock */
	if ((rc = dk__vfio_container_attach(c, g)) < 0)
		goto err_close;
	g->next = g_groups;
	g_groups = g;
	pthread_mutex_unlock(&dk__vfio_lock);
	DK_DEBUG("group %d open", number);
	/* The container has an IOMMU now: DMA memory goes into it. */
	if (first && dk__vfio_iommu_ready(c) < 0)
		DK_ERR("group %d: not all DMA memory could be mapped into its container (see above): devices of the group may fault on it",
		       number);
	return g;

err_close:
	close(g->fd);
err_free:
	free(g);
err_unlock:
	pthread_mutex_unlock(&dk__vfio_lock);
	errno = -rc;
	return NULL;
}

void dk_vfio_group_close(struct dk_vfio_group *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&dk__vfio_lock);
	if (--g->refs > 0) {
		pthread_mutex_unlock(&dk__vfio_lock);
		return;
	}
	struct dk_vfio_group **pp = &g_groups;
	while (*pp && *pp != g)
		pp = &(*pp)->next;
	if (*pp)
		*pp = g->next;
	dk__vfio_container_detach(g->c, g);
	close(g->fd);
	pthread_mutex_unlock(&dk__vfio_lock);
	free(g);
}

int dk_vfio_group_number(const struct dk_vfio_group *g)
{
	return g ? g->number : -EINVAL;
}
