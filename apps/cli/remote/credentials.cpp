#include "apps/cli/remote/credentials.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include <fmt/format.h>

namespace ktstr::cli {
namespace {

namespace fs = std::filesystem;

// Owners of OpenSSL objects: freed on every path out, errors included.
struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct X509Free { void operator()(X509* p) const { X509_free(p); } };
struct X509ExtFree { void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); } };
struct X509StoreFree { void operator()(X509_STORE* p) const { X509_STORE_free(p); } };
struct X509StoreCtxFree { void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); } };
struct BioFree { void operator()(BIO* p) const { BIO_free_all(p); } };
struct BnFree { void operator()(BIGNUM* p) const { BN_free(p); } };
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using CertExt = std::unique_ptr<X509_EXTENSION, X509ExtFree>;
using Store = std::unique_ptr<X509_STORE, X509StoreFree>;
using StoreCtx = std::unique_ptr<X509_STORE_CTX, X509StoreCtxFree>;
using Bio = std::unique_ptr<BIO, BioFree>;
using Bignum = std::unique_ptr<BIGNUM, BnFree>;

/// OpenSSL's queued errors as one line (and the queue emptied), or `fallback`.
std::string openssl_reason(const char* fallback = "unknown OpenSSL error") {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? std::string(fallback) : out;
}

[[noreturn]] void fail(const std::string& what) {
  throw RemoteError(fmt::format("{}: {}", what, openssl_reason()));
}

Pkey new_p256_key() {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) fail("cannot make an EC P-256 key");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  CertExt ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext) fail(fmt::format("cannot make the certificate extension {}={}", OBJ_nid2sn(nid), value));
  if (X509_add_ext(cert, ext.get(), -1) != 1) fail("cannot add a certificate extension");
}

void set_random_serial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) fail("cannot draw a random serial number");
  bytes[0] &= 0x7f;  // positive
  bytes[0] |= 0x40;  // and never with a leading zero byte
  Bignum bn(BN_bin2bn(bytes, sizeof bytes, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert))) fail("cannot set a serial number");
}

enum class Role { ca, worker, client };

/// A certificate for `key`, signed by `issuer_key` (self-signed when issuer is null).
Cert make_cert(EVP_PKEY* key, const char* cn, Role role, X509* issuer, EVP_PKEY* issuer_key, int days) {
  Cert cert(X509_new());
  if (!cert) fail("cannot make a certificate");
  if (X509_set_version(cert.get(), 2) != 1) fail("cannot set the certificate's version");
  set_random_serial(cert.get());
  if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60) ||
      !X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 24 * 3600))
    fail("cannot set the validity period");
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn), -1, -1,
                                 0) != 1)
    fail("cannot set the common name");
  X509* signer = issuer ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1) fail("cannot set the issuer");
  if (X509_set_pubkey(cert.get(), key) != 1) fail("cannot set the public key");
  add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (role == Role::ca) {
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
    add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
    add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth,clientAuth");
    if (role == Role::worker) add_ext(cert.get(), signer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  }
  if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0) fail("cannot sign the certificate");
  return cert;
}

/// Writes PEM text to a new file (O_EXCL: never over an existing one) with `mode`.
void write_new_file(const fs::path& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw RemoteError(fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      ::close(fd);
      throw RemoteError(fmt::format("cannot write {}: {}", path.string(), std::strerror(err)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::close(fd) != 0)
    throw RemoteError(fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string key_pem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    fail("cannot write a private key as PEM");
  return bio_text(bio.get());
}

std::string cert_pem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) fail("cannot write a certificate as PEM");
  return bio_text(bio.get());
}

/// Opens a PEM file for reading; the problem as one line when it cannot.
std::optional<std::string> open_pem(const fs::path& path, const char* option, Bio& out) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return fmt::format("{} {}: no such file", option, path.string());
  if (fs::is_directory(path, ec)) return fmt::format("{} {}: is a directory", option, path.string());
  out.reset(BIO_new_file(path.c_str(), "r"));
  if (!out) {
    ERR_clear_error();
    return fmt::format("{} {}: cannot read it: {}", option, path.string(), std::strerror(errno));
  }
  return std::nullopt;
}

std::optional<std::string> load_cert(const fs::path& path, const char* option, Cert& out) {
  Bio bio;
  if (auto why = open_pem(path, option, bio)) return why;
  out.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!out) return fmt::format("{} {}: not a PEM certificate ({})", option, path.string(), openssl_reason());
  return std::nullopt;
}

std::optional<std::string> load_key(const fs::path& path, Pkey& out) {
  Bio bio;
  if (auto why = open_pem(path, "--key", bio)) return why;
  // An empty passphrase callback: an encrypted key fails instead of prompting on the terminal.
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  out.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!out)
    return fmt::format("--key {}: not an unencrypted PEM private key ({})", path.string(), openssl_reason());
  return std::nullopt;
}

}  // namespace

CaFiles init_ca(const fs::path& dir, int days) {
  if (days <= 0) throw RemoteError(fmt::format("--days must be positive, not {}", days));
  CaFiles files{dir / "ca.crt", dir / "ca.key", dir / "worker.crt", dir / "worker.key", dir / "client.crt",
                dir / "client.key"};
  std::error_code ec;
  for (const auto* p : {&files.ca_cert, &files.ca_key, &files.worker_cert, &files.worker_key, &files.client_cert,
                        &files.client_key})
    if (fs::exists(fs::symlink_status(*p, ec)))
      throw RemoteError(fmt::format("{} exists already: init-ca never overwrites a pool's keys", p->string()));
  if (!fs::exists(dir, ec)) {
    if (!dir.parent_path().empty()) fs::create_directories(dir.parent_path(), ec);
    if (::mkdir(dir.c_str(), 0700) != 0)
      throw RemoteError(fmt::format("cannot create {}: {}", dir.string(), std::strerror(errno)));
    // mkdir's mode passes through the umask: set it exactly.
    if (::chmod(dir.c_str(), 0700) != 0)
      throw RemoteError(fmt::format("cannot set the mode of {}: {}", dir.string(), std::strerror(errno)));
  } else if (!fs::is_directory(dir, ec)) {
    throw RemoteError(fmt::format("{} is not a directory", dir.string()));
  }

  // Everything is made in memory first, then written: a failure writes nothing.
  Pkey ca_key = new_p256_key();
  Cert ca_cert = make_cert(ca_key.get(), "ktstr-actors CA", Role::ca, nullptr, nullptr, days);
  Pkey worker_key = new_p256_key();
  Cert worker_cert = make_cert(worker_key.get(), "ktstr-actors worker", Role::worker, ca_cert.get(), ca_key.get(), days);
  Pkey client_key = new_p256_key();
  Cert client_cert = make_cert(client_key.get(), "ktstr-actors client", Role::client, ca_cert.get(), ca_key.get(), days);

  const std::vector<std::pair<const fs::path*, std::string>> out{
      {&files.ca_key, key_pem(ca_key.get())},         {&files.ca_cert, cert_pem(ca_cert.get())},
      {&files.worker_key, key_pem(worker_key.get())}, {&files.worker_cert, cert_pem(worker_cert.get())},
      {&files.client_key, key_pem(client_key.get())}, {&files.client_cert, cert_pem(client_cert.get())}};
  for (const auto& [path, text] : out) {
    const bool is_key = path->extension() == ".key";
    write_new_file(*path, text, is_key ? 0600 : 0644);
  }
  return files;
}

std::optional<std::string> check_credentials(const Credentials& c) {
  if (c.cert.empty()) return std::string("--cert is missing (this side's certificate, PEM)");
  if (c.key.empty()) return std::string("--key is missing (the certificate's private key, PEM)");
  if (c.ca.empty()) return std::string("--ca is missing (the pool's CA certificate, PEM)");
  ERR_clear_error();
  Cert cert, ca;
  Pkey key;
  if (auto why = load_cert(c.cert, "--cert", cert)) return why;
  if (auto why = load_key(c.key, key)) return why;
  if (auto why = load_cert(c.ca, "--ca", ca)) return why;
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return fmt::format("--key {} is not the private key of --cert {}", c.key.string(), c.cert.string());
  }
  Store store(X509_STORE_new());
  StoreCtx ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1)
    return fmt::format("cannot check --cert against --ca: {}", openssl_reason());
  // A --ca file may hold several CAs (the old and the new one while certificates are
  // rotated: docs/workers.md); OpenSSL trusts each of them in the handshake, so do we here.
  Bio more;
  if (!open_pem(c.ca, "--ca", more)) {
    while (Cert next{PEM_read_bio_X509(more.get(), nullptr, nullptr, nullptr)}) X509_STORE_add_cert(store.get(), next.get());
    ERR_clear_error();  // the end of the file reads as an error
  }
  if (X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1)
    return fmt::format("cannot check --cert against --ca: {}", openssl_reason());
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return fmt::format("--cert {} does not verify against --ca {}: {}", c.cert.string(), c.ca.string(),
                       X509_verify_cert_error_string(err));
  }
  // X509_verify_cert checks the dates too; say so plainly for the certificate itself.
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) >= 0)
    return fmt::format("--cert {} is not valid yet", c.cert.string());
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) <= 0)
    return fmt::format("--cert {} has expired", c.cert.string());
  return std::nullopt;
}

}  // namespace ktstr::cli
