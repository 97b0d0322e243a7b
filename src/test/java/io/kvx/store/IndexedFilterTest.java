package io.kvx.store;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IndexedFilterTest {

  private static JsonObject pod(String node) {
    JsonObject spec = new JsonObject();
    if (node != null) spec.put("nodeName", node);
    return new JsonObject().put("metadata", new JsonObject().put("name", "p")).put("spec", spec);
  }

  @Test
  void readsDottedFieldsMissingAsEmpty() {
    assertEquals("n1", IndexedFilter.valueOf("spec.nodeName", pod("n1")));
    assertEquals("", IndexedFilter.valueOf("spec.nodeName", pod(null)));
    assertEquals("", IndexedFilter.valueOf("status.phase", pod("n1")));
    assertEquals("p", IndexedFilter.valueOf("metadata.name", pod("n1")));
  }

  @Test
  void matchesItsValueAndTheRest() {
    IndexedFilter onN1 = new IndexedFilter("spec.nodeName", "n1", null);
    assertTrue(onN1.test(pod("n1")));
    assertFalse(onN1.test(pod("n2")));
    assertFalse(onN1.test(pod(null)));
    IndexedFilter unbound = new IndexedFilter("spec.nodeName", "", null);
    assertTrue(unbound.test(pod(null)));
    IndexedFilter named = new IndexedFilter("spec.nodeName", "n1", o -> "q".equals(o.getJsonObject("metadata")
        .getString("name")));
    assertFalse(named.test(pod("n1")));
  }
}
