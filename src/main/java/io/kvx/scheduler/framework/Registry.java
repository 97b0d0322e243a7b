package io.kvx.scheduler.framework;

import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Plugin name → factory, kube-scheduler's one registry map. A factory gets the plugin's pluginConfig
 * args (plain maps, as parsed from YAML or JSON) and a handle on the framework it is built into.
 */
public final class Registry {

  /** Builds a plugin from its args. */
  public interface Factory {
    Plugin create(Map<String, Object> args, Supplier<Framework> framework);
  }

  private final Map<String, Factory> factories;

  public Registry(Map<String, Factory> factories) {
    this.factories = Map.copyOf(factories);
  }

  public Plugin create(String name, Map<String, Object> args, Supplier<Framework> framework) {
    Factory f = factories.get(name);
    if (f == null) throw new IllegalArgumentException("plugin \"" + name + "\" does not exist");
    return f.create(args == null ? Map.of() : args, framework);
  }

  public boolean has(String name) {
    return factories.containsKey(name);
  }

  public Set<String> names() {
    return factories.keySet();
  }
}
