package io.kvx.api;

import dev.cel.common.types.SimpleType;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class KubeCelTest {

  private static Object eval(String expression) {
    Map<String, Object> vars = new HashMap<>();
    vars.put("object", new JsonObject().put("spec", new JsonObject().put("ports", new JsonArray().add(80).add(443))
        .put("host", "https://example.com:8443/a%20b").put("mem", "1Gi").put("limit", "512Mi")
        .put("cidr", "10.0.0.0/16").put("two", "2").put("names", new JsonArray().add("a").add("b").add("c"))));
    return CelRules.evalAdmission(expression, SimpleType.DYN, vars);
  }

  @Test
  void kubernetesListsAndRegex() {
    assertEquals(true, eval("object.spec.ports.isSorted()"));
    assertEquals(523L, eval("object.spec.ports.sum()"));
    assertEquals(80L, eval("object.spec.ports.min()"));
    assertEquals(443L, eval("object.spec.ports.max()"));
    assertEquals(1L, eval("object.spec.names.indexOf('b')"));
    assertEquals(-1L, eval("object.spec.names.lastIndexOf('z')"));
    assertEquals(1L, eval("'abc'.indexOf('b')"), "the strings extension's indexOf still works");
    assertEquals("123", eval("'abc 123 def 456'.find('[0-9]+')"));
    assertEquals(java.util.List.of("123", "456"), eval("'abc 123 def 456'.findAll('[0-9]+')"));
    assertEquals(true, eval("sets.contains([1, 2, 3], [2])"));
    assertEquals(true, eval("object.spec.names.exists(n, n == 'c')"));
    assertEquals("b", eval("optional.of('b').orValue('x')"));
    assertEquals(List.of(1L, 2L, 3L), eval("lists.range(3).map(i, i + 1)"));
    assertEquals(List.of("c", "b", "a"), eval("object.spec.names.reverse()"));
    assertEquals(true, eval("object.spec.names.all(i, n, i < 3 && n != '')"));
    assertEquals(1L, eval("object.spec.?missing.orValue(1)"));
    assertEquals(true, eval("1 < 1.5"));
    assertEquals(2L, eval("int(object.spec['two'])"));
    assertEquals(2L, eval("int(object.spec.two)"));
  }

  @Test
  void urlsIpsAndCidrs() {
    assertEquals(true, eval("isURL(object.spec.host)"));
    assertEquals(false, eval("isURL('not a url')"));
    assertEquals("https", eval("url(object.spec.host).getScheme()"));
    assertEquals("example.com", eval("url(object.spec.host).getHostname()"));
    assertEquals("8443", eval("url(object.spec.host).getPort()"));
    assertEquals("/a%20b", eval("url(object.spec.host).getEscapedPath()"));
    assertEquals(true, eval("isIP('10.0.0.1') && !isIP('10.0.0.01') && isIP('::1')"));
    assertEquals(4L, eval("ip('10.0.0.1').family()"));
    assertEquals(true, eval("ip('127.0.0.1').isLoopback()"));
    assertEquals(true, eval("cidr(object.spec.cidr).containsIP('10.0.255.1')"));
    assertEquals(false, eval("cidr(object.spec.cidr).containsIP(ip('10.1.0.1'))"));
    assertEquals(true, eval("cidr('10.0.0.0/8').containsCIDR(object.spec.cidr)"));
    assertEquals(16L, eval("cidr(object.spec.cidr).prefixLength()"));
    assertEquals(true, eval("cidr('10.1.2.3/16').masked().containsIP('10.1.0.0') && cidr('10.1.2.3/16').ip().family() == 4"));
    assertEquals(List.of("1", "2"), eval("url('https://a/b?x=1&x=2').getQuery()['x']"));
    assertThrows(IllegalArgumentException.class, () -> eval("ip('nope').family() == 4"));
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> eval("object.spec.nokey == 1"));
    assertEquals("no such key: nokey", missing.getMessage());
  }

  @Test
  void quantities() {
    assertEquals(true, eval("isQuantity(object.spec.mem) && !isQuantity('1 Gi')"));
    assertEquals(true, eval("quantity(object.spec.mem).isGreaterThan(quantity(object.spec.limit))"));
    assertEquals(-1L, eval("quantity('500m').compareTo(quantity('1'))"));
    assertEquals(1073741824L, eval("quantity(object.spec.mem).asInteger()"));
    assertEquals(true, eval("quantity('1').add(quantity('500m')).isLessThan(quantity('2'))"));
    assertEquals(false, eval("quantity('1.5').isInteger()"));
    assertEquals(-1L, eval("quantity('-2').sign()"));
  }
}
