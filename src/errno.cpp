#include <cerrno>

#include "wasio/errno.hpp"

namespace wasio {

std::string_view name(errc e) noexcept {
  static constexpr std::string_view names[] = {
      "success", "2big", "acces", "addrinuse", "addrnotavail", "afnosupport", "again", "already",
      "badf", "badmsg", "busy", "canceled", "child", "connaborted", "connrefused", "connreset",
      "deadlk", "destaddrreq", "dom", "dquot", "exist", "fault", "fbig", "hostunreach", "idrm",
      "ilseq", "inprogress", "intr", "inval", "io", "isconn", "isdir", "loop", "mfile", "mlink",
      "msgsize", "multihop", "nametoolong", "netdown", "netreset", "netunreach", "nfile", "nobufs",
      "nodev", "noent", "noexec", "nolck", "nolink", "nomem", "nomsg", "noprotoopt", "nospc",
      "nosys", "notconn", "notdir", "notempty", "notrecoverable", "notsock", "notsup", "notty",
      "nxio", "overflow", "ownerdead", "perm", "pipe", "proto", "protonosupport", "prototype",
      "range", "rofs", "spipe", "srch", "stale", "timedout", "txtbsy", "xdev", "notcapable"};
  auto i = static_cast<size_t>(e);
  return i < std::size(names) ? names[i] : "unknown";
}

errc from_host_errno(int e) noexcept {
  switch (e) {
    case 0: return errc::success;
    case E2BIG: return errc::toobig;
    case EACCES: return errc::acces;
    case EADDRINUSE: return errc::addrinuse;
    case EADDRNOTAVAIL: return errc::addrnotavail;
    case EAFNOSUPPORT: return errc::afnosupport;
    case EAGAIN: return errc::again;
    case EALREADY: return errc::already;
    case EBADF: return errc::badf;
    case EBADMSG: return errc::badmsg;
    case EBUSY: return errc::busy;
    case ECANCELED: return errc::canceled;
    case ECHILD: return errc::child;
    case ECONNABORTED: return errc::connaborted;
    case ECONNREFUSED: return errc::connrefused;
    case ECONNRESET: return errc::connreset;
    case EDEADLK: return errc::deadlk;
    case EDESTADDRREQ: return errc::destaddrreq;
    case EDOM: return errc::dom;
    case EDQUOT: return errc::dquot;
    case EEXIST: return errc::exist;
    case EFAULT: return errc::fault;
    case EFBIG: return errc::fbig;
    case EHOSTUNREACH: return errc::hostunreach;
    case EIDRM: return errc::idrm;
    case EILSEQ: return errc::ilseq;
    case EINPROGRESS: return errc::inprogress;
    case EINTR: return errc::intr;
    case EINVAL: return errc::inval;
    case EIO: return errc::io;
    case EISCONN: return errc::isconn;
    case EISDIR: return errc::isdir;
    case ELOOP: return errc::loop;
    case EMFILE: return errc::mfile;
    case EMLINK: return errc::mlink;
    case EMSGSIZE: return errc::msgsize;
    case EMULTIHOP: return errc::multihop;
    case ENAMETOOLONG: return errc::nametoolong;
    case ENETDOWN: return errc::netdown;
    case ENETRESET: return errc::netreset;
    case ENETUNREACH: return errc::netunreach;
    case ENFILE: return errc::nfile;
    case ENOBUFS: return errc::nobufs;
    case ENODEV: return errc::nodev;
    case ENOENT: return errc::noent;
    case ENOEXEC: return errc::noexec;
    case ENOLCK: return errc::nolck;
    case ENOLINK: return errc::nolink;
    case ENOMEM: return errc::nomem;
    case ENOMSG: return errc::nomsg;
    case ENOPROTOOPT: return errc::noprotoopt;
    case ENOSPC: return errc::nospc;
    case ENOSYS: return errc::nosys;
    case ENOTCONN: return errc::notconn;
    case ENOTDIR: return errc::notdir;
    case ENOTEMPTY: return errc::notempty;
    case ENOTRECOVERABLE: return errc::notrecoverable;
    case ENOTSOCK: return errc::notsock;
    case ENOTSUP: return errc::notsup;  // == EOPNOTSUPP on Linux
    case ENOTTY: return errc::notty;
    case ENXIO: return errc::nxio;
    case EOVERFLOW: return errc::overflow;
    case EOWNERDEAD: return errc::ownerdead;
    case EPERM: return errc::perm;
    case EPIPE: return errc::pipe;
    case EPROTO: return errc::proto;
    case EPROTONOSUPPORT: return errc::protonosupport;
    case EPROTOTYPE: return errc::prototype;
    case ERANGE: return errc::range;
    case EROFS: return errc::rofs;
    case ESPIPE: return errc::spipe;
    case ESRCH: return errc::srch;
    case ESTALE: return errc::stale;
    case ETIMEDOUT: return errc::timedout;
    case ETXTBSY: return errc::txtbsy;
    case EXDEV: return errc::xdev;
    default: return errc::io;
  }
}

}  // namespace wasio
