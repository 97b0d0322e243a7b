package io.kvx.proxy.userspace;

import io.kvx.proxy.ServiceView;

/** The listener(s) of one service port in userspace mode. */
interface PortProxy {

  /** New endpoints or affinity for the same address and port. */
  void update(ServiceView view);

  /** Stops listening; blocks until the sockets are closed. */
  void close() throws Exception;
}
