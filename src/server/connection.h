// Noticing that a client went away while its request waits or decodes, so that the request can be
// cancelled. cpp-httplib 0.11 (Debian 12) gives a handler neither the connection's socket nor a way
// to ask whether the peer closed it (its is_writable() only polls for writability, which a closed
// peer's socket also reports), so the socket is found by its addresses among the process's open
// descriptors and polled for the peer's end of stream.
#pragma once

#include <string>

namespace dimple::server {

// The descriptor of the connected TCP socket with these local and peer ports and peer address,
// or -1 when none is found.
int find_connection(int local_port, const std::string& peer_addr, int peer_port);

// Whether the peer has closed (or reset) the connection `fd`; false for -1. Bytes the client has
// sent but the server not yet read (a pipelined request) do not count as closed.
bool peer_closed(int fd);

}  // namespace dimple::server
