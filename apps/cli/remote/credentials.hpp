#pragma once
// Credentials of a worker pool: one CA the user creates (`worker --init-ca DIR`), a
// certificate for the workers and one for the clients (experiments), all made with
// OpenSSL's library. Both sides present a certificate signed by that CA (mutual TLS);
// without credentials a worker listens on loopback only.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace ktstr::cli {

/// Something wrong with credentials, an address or a connection: one line.
struct RemoteError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Credentials {
  std::filesystem::path cert;  ///< this side's certificate (PEM)
  std::filesystem::path key;   ///< its private key (PEM, unencrypted)
  std::filesystem::path ca;    ///< the CA certificate the peer's must be signed by
  bool empty() const { return cert.empty() && key.empty() && ca.empty(); }
};

/// The files `init_ca` writes into its folder.
struct CaFiles {
  std::filesystem::path ca_cert, ca_key, worker_cert, worker_key, client_cert, client_key;
};

/// Creates dir (mode 0700) with ca.crt/ca.key, worker.crt/worker.key and client.crt/client.key:
/// EC P-256 keys (files 0600), certificates signed by the new CA, valid `days` days. Refuses
/// (RemoteError) when any of those files exists already: never overwrites a pool's keys.
CaFiles init_ca(const std::filesystem::path& dir, int days = 825);

/// Why these credentials cannot be used (all three needed; files missing or not PEM; the key
/// not the certificate's; the certificate not signed by the CA; expired or not yet valid),
/// as one line; nullopt when they can.
std::optional<std::string> check_credentials(const Credentials& c);

}  // namespace ktstr::cli
