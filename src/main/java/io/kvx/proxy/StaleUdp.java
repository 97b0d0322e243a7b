package io.kvx.proxy;

import io.kvx.node.Exec;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * UDP has no connection end, so a NAT mode's conntrack entries keep sending a client's datagrams to an
 * endpoint that left (or to nowhere, for a service that had none). As kube-proxy does after each sync,
 * the entries that point at a removed UDP endpoint are deleted, and so are those towards a service port
 * that just got its first endpoint. {@link #between} is pure; {@link #clear} runs {@code conntrack -D}.
 */
public final class StaleUdp {

  private static final Logger LOG = Logger.getLogger(StaleUdp.class.getName());

  /**
   * One deletion: entries whose original destination is {@code destination} (with {@code port}, or the
   * node port on any address when {@code destination} is null) and, if {@code endpoint} is set, whose
   * reply comes from that endpoint.
   */
  public record Flow(String destination, int port, String endpoint) {
    List<String> command() {
      List<String> c = new ArrayList<>(List.of("conntrack", "-D", "-p", "udp"));
      if (destination != null) c.addAll(List.of("--orig-dst", destination));
      c.addAll(List.of("--orig-port-dst", Integer.toString(port)));
      if (endpoint != null) c.addAll(List.of("--reply-src", endpoint));
      return c;
    }
  }

  private StaleUdp() {
  }

  /** What the change from {@code before} to {@code after} of the {@code changed} services leaves stale. */
  public static List<Flow> between(ProxySnapshot before, ProxySnapshot after, Set<String> changed) {
    List<Flow> out = new ArrayList<>();
    for (String key : changed) {
      List<ServiceView> now = after.service(key);
      for (ServiceView old : before.service(key)) {
        ServicePort p = old.port();
        if (!p.protocol().equalsIgnoreCase("UDP")) continue;
        ServiceView same = now.stream().filter(v -> v.port().equals(p)).findFirst().orElse(null);
        List<Endpoint> kept = same == null ? List.of() : same.endpoints();
        for (Endpoint e : old.endpoints()) {
          if (kept.stream().anyMatch(k -> k.ip().equals(e.ip()) && k.port() == e.port())) continue;
          out.add(new Flow(p.clusterIP(), p.port(), e.ip()));
          if (p.nodePort() > 0) out.add(new Flow(null, p.nodePort(), e.ip()));
        }
      }
      for (ServiceView v : now) {
        ServicePort p = v.port();
        if (!p.protocol().equalsIgnoreCase("UDP") || v.endpoints().isEmpty()) continue;
        boolean hadNone = before.service(key).stream().filter(o -> o.port().clusterIP().equals(p.clusterIP())
            && o.port().port() == p.port()).allMatch(o -> o.endpoints().isEmpty());
        if (hadNone) {
          out.add(new Flow(p.clusterIP(), p.port(), null));
          if (p.nodePort() > 0) out.add(new Flow(null, p.nodePort(), null));
        }
      }
    }
    return out;
  }

  /** Deletes the entries; blocking. A missing conntrack binary is said once and otherwise ignored. */
  public static void clear(List<Flow> flows) {
    for (Flow f : flows) {
      try {
        Exec.run(f.command());
      } catch (IOException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("0 flow entries")) continue; // nothing to delete
        if (m.contains("No such file") || m.contains("error=2")) {
          if (!warned) {
            LOG.warning("proxy: no conntrack binary; stale UDP flows are not cleared (apt-get install conntrack)");
          }
          warned = true;
          return;
        }
        LOG.fine(() -> "proxy: " + m);
      }
    }
  }

  private static volatile boolean warned;
}
