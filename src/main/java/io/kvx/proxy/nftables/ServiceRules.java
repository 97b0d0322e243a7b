package io.kvx.proxy.nftables;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything one service owns in the table: its chains (name → rules, in order), its affinity sets
 * (name → definition) and its elements in the shared verdict maps ("map|key" → verdict). Two
 * renderings of a service are compared piecewise to send only what changed.
 */
public record ServiceRules(String service, Map<String, List<String>> chains, Map<String, String> sets,
                           Map<String, String> elements, Set<String> hairpin) {

  public static ServiceRules none(String service) {
    return new ServiceRules(service, Map.of(), Map.of(), Map.of(), Set.of());
  }

  public boolean isEmpty() {
    return chains.isEmpty() && sets.isEmpty() && elements.isEmpty() && hairpin.isEmpty();
  }

  public Set<String> chainNames() {
    return chains.keySet();
  }
}
