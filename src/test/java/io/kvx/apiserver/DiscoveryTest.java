package io.kvx.apiserver;

import io.kvx.api.Resources;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DiscoveryTest {

  @Test
  void versionsComeInKubesPriorityAndTheFirstIsPreferred() {
    assertEquals(List.of("v10", "v2", "v1", "v11beta2", "v10beta3", "v3beta1", "v12alpha1", "v11alpha2", "foo1", "foo10"),
        Discovery.byPriority(List.of("foo10", "v1", "v3beta1", "v10beta3", "v2", "v11alpha2", "foo1", "v12alpha1",
            "v11beta2", "v10")));
    JsonObject group = Discovery.group("sw2.test", new LinkedHashSet<>(List.of("v1", "v2")));
    assertEquals("v2", group.getJsonObject("preferredVersion").getString("version"), group.encode());
  }

  @Test
  void autoscalingPrefersV2AsKube() {
    JsonObject group = Discovery.groups(new Resources()).getJsonArray("groups").stream().map(JsonObject.class::cast)
        .filter(g -> g.getString("name").equals("autoscaling")).findFirst().orElseThrow();
    assertEquals("autoscaling/v2", group.getJsonObject("preferredVersion").getString("groupVersion"));
  }
}
