package io.kvx.proxy;

import java.util.Set;

/**
 * One way of making service traffic reach endpoints (nftables, ipvs, userspace). Every method
 * blocks and runs on a worker thread, one at a time.
 */
public interface ProxyMode {

  String name();

  /** Removes whatever a previous run left behind and sets up the mode's fixed parts. */
  void start() throws Exception;

  /**
   * Makes the programmed state match {@code snapshot}: only the {@code changed} services, or all of
   * them when {@code full} (first sync, after a failure, periodic resync).
   */
  void sync(ProxySnapshot snapshot, Set<String> changed, boolean full) throws Exception;

  /** Whether traffic goes through kernel NAT, whose UDP conntrack entries must be cleared on endpoint changes. */
  default boolean natConntrack() {
    return true;
  }

  /** Removes everything the mode programmed. */
  void stop() throws Exception;
}
