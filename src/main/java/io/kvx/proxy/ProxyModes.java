package io.kvx.proxy;

import io.kvx.proxy.ipvs.IpvsMode;
import io.kvx.proxy.nftables.NftablesMode;
import io.kvx.proxy.userspace.UserspaceMode;
import io.vertx.core.Vertx;

import java.util.logging.Logger;

/** Picks the mode the options ask for; ipvs falls back to nftables where the kernel has no IP_VS. */
public final class ProxyModes {

  private static final Logger LOG = Logger.getLogger(ProxyModes.class.getName());

  private ProxyModes() {
  }

  /** Blocking (the ipvs probe opens a netlink socket). */
  public static ProxyMode create(Vertx vertx, ProxyOptions options) {
    return switch (options.mode) {
      case "nftables" -> new NftablesMode(options);
      case "userspace" -> new UserspaceMode(vertx, options);
      case "ipvs" -> {
        String missing = IpvsMode.probe();
        if (missing == null) yield new IpvsMode(options);
        LOG.warning("ipvs: kernel has no IP_VS support (" + missing + "); falling back to nftables");
        yield new NftablesMode(options);
      }
      default -> throw new IllegalArgumentException("unknown proxy mode " + options.mode
          + " (nftables, ipvs or userspace)");
    };
  }
}
