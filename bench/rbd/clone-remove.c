/*
 * The floor for BMI's clone + remove: the same librbd calls with no JavaScript, no binding, no process spawn.
 * Usage: clone-remove CONF CLIENT_ID KEYRING POOL PARENT SNAP PREFIX N
 * Connects once, then N times: rbd_clone3(PARENT@SNAP -> PREFIX<i>, format 1, layering) and rbd_remove,
 * printing the milliseconds of each pair on its own line.
 */
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void check(int r, const char *what) {
  if (r < 0) {
    fprintf(stderr, "%s failed: %s\n", what, strerror(-r));
    exit(1);
  }
}

int main(int argc, char **argv) {
  if (argc != 9) {
    fprintf(stderr, "usage: %s CONF CLIENT_ID KEYRING POOL PARENT SNAP PREFIX N\n", argv[0]);
    return 2;
  }
  const char *conf = argv[1], *id = argv[2], *keyring = argv[3], *pool = argv[4];
  const char *parent = argv[5], *snap = argv[6], *prefix = argv[7];
  int n = atoi(argv[8]);

  rados_t cluster;
  rados_ioctx_t io;
  check(rados_create(&cluster, id), "rados_create");
  check(rados_conf_read_file(cluster, conf), "rados_conf_read_file");
  check(rados_conf_set(cluster, "keyring", keyring), "rados_conf_set keyring");
  check(rados_connect(cluster), "rados_connect");
  check(rados_ioctx_create(cluster, pool, &io), "rados_ioctx_create");

  rbd_image_options_t opts;
  rbd_image_options_create(&opts);
  check(rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FORMAT, 2), "format option");
  check(rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_FEATURES, RBD_FEATURE_LAYERING), "features option");
  check(rbd_image_options_set_uint64(opts, RBD_IMAGE_OPTION_CLONE_FORMAT, 1), "clone format option");

  char name[256];
  for (int i = 0; i < n; i++) {
    snprintf(name, sizeof name, "%s%d", prefix, i);
    double t0 = now_ms();
    check(rbd_clone3(io, parent, snap, io, name, opts), "rbd_clone3");
    check(rbd_remove(io, name), "rbd_remove");
    printf("%.3f\n", now_ms() - t0);
  }
  rbd_image_options_destroy(opts);
  rados_ioctx_destroy(io);
  rados_shutdown(cluster);
  return 0;
}
