// Raw FFI declarations for libbpf.so.1 and the few libc calls the loader needs, through koffi.
// Nothing here interprets results: the lifecycle (object.ts, attach.ts) turns return codes into BpfError.
// Conventions of libbpf 1.x: functions returning int return -errno on failure; functions returning pointers
// return NULL and set errno, which must be read (koffi.errno()) right after the call.
import koffi, { type LibraryHandle } from "koffi";

export type Pointer = object; // an opaque native pointer handed out by koffi

const LIBBPF = "libbpf.so.1";
const LIBC = "libc.so.6";

function open(name: string, hint: string): LibraryHandle {
  try {
    return koffi.load(name);
  } catch (err) {
    throw new Error(`cannot load ${name} (${(err as Error).message}); ${hint}`);
  }
}

const libbpf = open(LIBBPF, "install it with: apt-get install -y libbpf1");
const libc = open(LIBC, "the C library is missing");

koffi.opaque("bpf_object");
koffi.opaque("bpf_map");
koffi.opaque("bpf_program");

// Option structs. libbpf reads `sz` first and accepts a smaller struct from an older caller, so only the
// fields used are declared; anything past `sz` takes its default.
export const XdpQueryOpts = koffi.struct("bpf_xdp_query_opts", {
  sz: "size_t",
  prog_id: "uint32_t",
  drv_prog_id: "uint32_t",
  hw_prog_id: "uint32_t",
  skb_prog_id: "uint32_t",
  attach_mode: "uint8_t",
});
export const LinkCreateOpts = koffi.struct("bpf_link_create_opts", {
  sz: "size_t",
  flags: "uint32_t",
});
export const LinkUpdateOpts = koffi.struct("bpf_link_update_opts", {
  sz: "size_t",
  flags: "uint32_t",
  old_prog_fd: "uint32_t",
});
export const XdpAttachOpts = koffi.struct("bpf_xdp_attach_opts", {
  sz: "size_t",
  old_prog_fd: "int",
});
export const MapBatchOpts = koffi.struct("bpf_map_batch_opts", {
  sz: "size_t",
  elem_flags: "uint64_t",
  flags: "uint64_t",
});
export const TestRunOpts = koffi.struct("bpf_test_run_opts", {
  sz: "size_t",
  data_in: "void *",
  data_out: "void *",
  data_size_in: "uint32_t",
  data_size_out: "uint32_t",
  ctx_in: "void *",
  ctx_out: "void *",
  ctx_size_in: "uint32_t",
  ctx_size_out: "uint32_t",
  retval: "uint32_t",
  repeat: "int",
  duration: "uint32_t",
  flags: "uint32_t",
  cpu: "uint32_t",
  batch_size: "uint32_t",
});

export const LibbpfPrintFn = koffi.proto("int libbpf_print_fn(int level, const char *fmt, void *args)");

export const native = {
  // object lifecycle
  bpf_object__open_file: libbpf.func("bpf_object *bpf_object__open_file(const char *path, void *opts)"),
  bpf_object__load: libbpf.func("int bpf_object__load(bpf_object *obj)"),
  bpf_object__close: libbpf.func("void bpf_object__close(bpf_object *obj)"),
  bpf_object__find_map_by_name: libbpf.func(
    "bpf_map *bpf_object__find_map_by_name(bpf_object *obj, const char *name)",
  ),
  bpf_object__next_map: libbpf.func("bpf_map *bpf_object__next_map(bpf_object *obj, bpf_map *prev)"),
  bpf_object__find_program_by_name: libbpf.func(
    "bpf_program *bpf_object__find_program_by_name(bpf_object *obj, const char *name)",
  ),
  bpf_map__name: libbpf.func("const char *bpf_map__name(bpf_map *map)"),
  bpf_map__fd: libbpf.func("int bpf_map__fd(bpf_map *map)"),
  bpf_map__reuse_fd: libbpf.func("int bpf_map__reuse_fd(bpf_map *map, int fd)"),
  bpf_map__set_initial_value: libbpf.func(
    "int bpf_map__set_initial_value(bpf_map *map, const void *data, size_t size)",
  ),
  bpf_program__fd: libbpf.func("int bpf_program__fd(bpf_program *prog)"),

  // links and XDP
  bpf_link_create: libbpf.func(
    "int bpf_link_create(int prog_fd, int target_fd, int attach_type, const bpf_link_create_opts *opts)",
  ),
  bpf_link_update: libbpf.func(
    "int bpf_link_update(int link_fd, int new_prog_fd, const bpf_link_update_opts *opts)",
  ),
  bpf_link_detach: libbpf.func("int bpf_link_detach(int link_fd)"),
  bpf_xdp_query: libbpf.func("int bpf_xdp_query(int ifindex, int flags, _Inout_ bpf_xdp_query_opts *opts)"),
  // XDP through netlink, without a link: used only to hear the kernel's reason for refusing native XDP
  // (netlink carries the driver's message, which libbpf logs; the bpf() syscall returns only an errno).
  bpf_xdp_attach: libbpf.func(
    "int bpf_xdp_attach(int ifindex, int prog_fd, uint32_t flags, const bpf_xdp_attach_opts *opts)",
  ),
  bpf_xdp_detach: libbpf.func(
    "int bpf_xdp_detach(int ifindex, uint32_t flags, const bpf_xdp_attach_opts *opts)",
  ),

  // generic object handling
  bpf_obj_pin: libbpf.func("int bpf_obj_pin(int fd, const char *pathname)"),
  bpf_obj_get: libbpf.func("int bpf_obj_get(const char *pathname)"),
  bpf_obj_get_info_by_fd: libbpf.func(
    "int bpf_obj_get_info_by_fd(int fd, _Inout_ void *info, _Inout_ uint32_t *len)",
  ),
  bpf_prog_get_fd_by_id: libbpf.func("int bpf_prog_get_fd_by_id(uint32_t id)"),
  bpf_map_get_fd_by_id: libbpf.func("int bpf_map_get_fd_by_id(uint32_t id)"),

  // maps
  bpf_map_create: libbpf.func(
    "int bpf_map_create(int map_type, const char *map_name, uint32_t key_size, uint32_t value_size, uint32_t max_entries, void *opts)",
  ),
  bpf_map_lookup_elem: libbpf.func("int bpf_map_lookup_elem(int fd, const void *key, _Out_ void *value)"),
  bpf_map_update_elem: libbpf.func(
    "int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)",
  ),
  bpf_map_lookup_batch: libbpf.func(
    "int bpf_map_lookup_batch(int fd, void *in_batch, _Out_ void *out_batch, _Out_ void *keys, _Out_ void *values, _Inout_ uint32_t *count, const bpf_map_batch_opts *opts)",
  ),

  // test runs (benchmarks and the traffic generator)
  bpf_prog_test_run_opts: libbpf.func(
    "int bpf_prog_test_run_opts(int prog_fd, _Inout_ bpf_test_run_opts *opts)",
  ),

  // misc
  libbpf_num_possible_cpus: libbpf.func("int libbpf_num_possible_cpus(void)"),
  libbpf_strerror: libbpf.func("int libbpf_strerror(int err, _Out_ char *buf, size_t size)"),
  libbpf_set_print: libbpf.func("void *libbpf_set_print(libbpf_print_fn *fn)"),

  // libc
  close: libc.func("int close(int fd)"),
  if_nametoindex: libc.func("unsigned int if_nametoindex(const char *ifname)"),
  vsnprintf: libc.func("int vsnprintf(_Out_ char *buf, size_t size, const char *fmt, void *args)"),
};

export const errno = (): number => koffi.errno();
export const koffiRegister = koffi.register;
export const koffiUnregister = koffi.unregister;
export const koffiPointer = koffi.pointer;
export const koffiAddress = koffi.address;
