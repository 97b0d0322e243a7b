package io.kvx.proxy.userspace;

import io.kvx.proxy.Endpoint;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Picks backends for one service port: round robin, or the client's last backend while its
 * ClientIP affinity lasts. {@link #order} returns every endpoint in the order to try, so a proxy can
 * move on when a connect fails. Thread-safe (updates come from the sync worker, picks from event loops).
 */
public final class LoadBalancer {

  private record Sticky(Endpoint endpoint, long lastUsedMillis) {
  }

  private List<Endpoint> endpoints = List.of();
  private long affinityMillis;
  private int next;
  private final Map<String, Sticky> affinity = new HashMap<>();

  public synchronized void update(List<Endpoint> eps, int affinitySeconds) {
    endpoints = List.copyOf(eps);
    affinityMillis = affinitySeconds * 1000L;
    if (affinityMillis == 0) affinity.clear();
    affinity.values().removeIf(s -> !endpoints.contains(s.endpoint()));
  }

  public synchronized List<Endpoint> endpoints() {
    return endpoints;
  }

  /** Endpoints in the order to try for this client. */
  public synchronized List<Endpoint> order(String clientIp, long nowMillis) {
    int n = endpoints.size();
    if (n == 0) return List.of();
    List<Endpoint> out = new ArrayList<>(n);
    if (affinityMillis > 0) {
      Sticky s = affinity.get(clientIp);
      if (s != null && nowMillis - s.lastUsedMillis() <= affinityMillis && endpoints.contains(s.endpoint())) {
        out.add(s.endpoint());
      }
    }
    int start = next++ % n;
    if (next < 0) next = 0;
    for (int i = 0; i < n; i++) {
      Endpoint e = endpoints.get((start + i) % n);
      if (!out.contains(e)) out.add(e);
    }
    return out;
  }

  /** The client got through to {@code ep}: it sticks there (with affinity) from now. */
  public synchronized void used(String clientIp, Endpoint ep, long nowMillis) {
    if (affinityMillis > 0) {
      affinity.put(clientIp, new Sticky(ep, nowMillis));
      if (affinity.size() > 10_000) affinity.values().removeIf(s -> nowMillis - s.lastUsedMillis() > affinityMillis);
    }
  }
}
