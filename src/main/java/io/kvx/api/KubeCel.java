package io.kvx.api;

import dev.cel.common.CelFunctionDecl;
import dev.cel.common.CelOptions;
import dev.cel.common.CelOverloadDecl;
import dev.cel.common.types.CelType;
import dev.cel.common.types.ListType;
import dev.cel.common.types.OpaqueType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompilerBuilder;
import dev.cel.extensions.CelExtensions;
import dev.cel.runtime.CelFunctionBinding;
import dev.cel.runtime.CelRuntimeBuilder;

import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The CEL environment Kubernetes gives CRD validation rules and admission expressions, on top of standard CEL:
 * the strings, sets, lists, two-variable comprehensions, optional and bindings extensions, and Kubernetes' own
 * libraries: lists
 * ({@code isSorted}, {@code sum}, {@code min}, {@code max}, {@code indexOf}, {@code lastIndexOf}), regex
 * ({@code find}, {@code findAll}), URLs ({@code isURL}, {@code url} and its getters), IPs and CIDRs ({@code isIP},
 * {@code ip}, {@code isCIDR}, {@code cidr} and their members) and quantities ({@code isQuantity},
 * {@code quantity}, comparisons and arithmetic). Not here: the authorizer library and {@code format}. Pure.
 */
final class KubeCel {

  static final OpaqueType URL = OpaqueType.create("kubernetes.URL");
  static final OpaqueType IP = OpaqueType.create("net.IP");
  static final OpaqueType CIDR = OpaqueType.create("net.CIDR");
  static final OpaqueType QUANTITY = OpaqueType.create("kubernetes.Quantity");
  private static final CelType DYN = SimpleType.DYN;
  private static final CelType LIST = ListType.create(SimpleType.DYN);
  private static final CelType STRING = SimpleType.STRING;
  private static final CelType BOOL = SimpleType.BOOL;
  private static final CelType INT = SimpleType.INT;

  /** An IP address: its text and bytes. */
  record Ip(String text, InetAddress address) {}

  /** A CIDR: its address and prefix length. */
  record Cidr(String text, InetAddress address, int bits) {}

  /** A quantity: its text and value. */
  record Quantity(String text, BigDecimal value) {}

  private KubeCel() {
  }

  /** cel-go's behaviour as Kubernetes configures it: optional syntax, 1 < 1.5 across numeric types. */
  static final CelOptions OPTIONS = CelOptions.current().enableOptionalSyntax(true)
      .enableHeterogeneousNumericComparisons(true).build();

  static void compiler(CelCompilerBuilder b) {
    b.setOptions(OPTIONS);
    b.addLibraries(CelExtensions.strings(), CelExtensions.sets(OPTIONS), CelExtensions.optional(),
        CelExtensions.bindings(), CelExtensions.lists(), CelExtensions.comprehensions());
    b.addFunctionDeclarations(
        member("isSorted", "list_is_sorted", BOOL, LIST),
        member("sum", "list_sum", DYN, LIST),
        member("min", "list_min", DYN, LIST),
        member("max", "list_max", DYN, LIST),
        member("indexOf", "list_index_of", INT, LIST, DYN),
        member("lastIndexOf", "list_last_index_of", INT, LIST, DYN),
        member("find", "string_find", STRING, STRING, STRING),
        CelFunctionDecl.newFunctionDeclaration("findAll",
            CelOverloadDecl.newMemberOverload("string_find_all", ListType.create(STRING), STRING, STRING),
            CelOverloadDecl.newMemberOverload("string_find_all_n", ListType.create(STRING), STRING, STRING, INT)),
        global("isURL", "is_url", BOOL, STRING),
        global("url", "string_to_url", URL, STRING),
        member("getScheme", "url_get_scheme", STRING, URL),
        member("getHost", "url_get_host", STRING, URL),
        member("getHostname", "url_get_hostname", STRING, URL),
        member("getPort", "url_get_port", STRING, URL),
        member("getEscapedPath", "url_get_escaped_path", STRING, URL),
        member("getQuery", "url_get_query", dev.cel.common.types.MapType.create(STRING, ListType.create(STRING)), URL),
        global("isIP", "is_ip", BOOL, STRING),
        global("ip", "string_to_ip", IP, STRING),
        member("family", "ip_family", INT, IP),
        member("isLoopback", "ip_is_loopback", BOOL, IP),
        member("isUnspecified", "ip_is_unspecified", BOOL, IP),
        member("isLinkLocalUnicast", "ip_is_link_local_unicast", BOOL, IP),
        member("isGlobalUnicast", "ip_is_global_unicast", BOOL, IP),
        global("isCIDR", "is_cidr", BOOL, STRING),
        global("cidr", "string_to_cidr", CIDR, STRING),
        CelFunctionDecl.newFunctionDeclaration("containsIP",
            CelOverloadDecl.newMemberOverload("cidr_contains_ip_string", BOOL, CIDR, STRING),
            CelOverloadDecl.newMemberOverload("cidr_contains_ip_ip", BOOL, CIDR, IP)),
        CelFunctionDecl.newFunctionDeclaration("containsCIDR",
            CelOverloadDecl.newMemberOverload("cidr_contains_cidr_string", BOOL, CIDR, STRING),
            CelOverloadDecl.newMemberOverload("cidr_contains_cidr", BOOL, CIDR, CIDR)),
        member("prefixLength", "cidr_prefix_length", INT, CIDR),
        member("ip", "cidr_ip", IP, CIDR),
        member("masked", "cidr_masked", CIDR, CIDR),
        global("isQuantity", "is_quantity", BOOL, STRING),
        global("quantity", "string_to_quantity", QUANTITY, STRING),
        member("isInteger", "quantity_is_integer", BOOL, QUANTITY),
        member("asInteger", "quantity_as_integer", INT, QUANTITY),
        member("asApproximateFloat", "quantity_as_float", SimpleType.DOUBLE, QUANTITY),
        member("sign", "quantity_sign", INT, QUANTITY),
        member("compareTo", "quantity_compare_to", INT, QUANTITY, QUANTITY),
        member("isGreaterThan", "quantity_is_greater_than", BOOL, QUANTITY, QUANTITY),
        member("isLessThan", "quantity_is_less_than", BOOL, QUANTITY, QUANTITY),
        CelFunctionDecl.newFunctionDeclaration("add",
            CelOverloadDecl.newMemberOverload("quantity_add", QUANTITY, QUANTITY, QUANTITY),
            CelOverloadDecl.newMemberOverload("quantity_add_int", QUANTITY, QUANTITY, INT)),
        CelFunctionDecl.newFunctionDeclaration("sub",
            CelOverloadDecl.newMemberOverload("quantity_sub", QUANTITY, QUANTITY, QUANTITY),
            CelOverloadDecl.newMemberOverload("quantity_sub_int", QUANTITY, QUANTITY, INT)));
  }

  static void runtime(CelRuntimeBuilder b) {
    b.setOptions(OPTIONS);
    b.addLibraries(CelExtensions.strings(), CelExtensions.sets(OPTIONS), CelExtensions.optional(),
        CelExtensions.lists(), CelExtensions.comprehensions());
    b.addFunctionBindings(
        CelFunctionBinding.from("list_is_sorted", List.class, l -> {
          for (int i = 1; i < l.size(); i++) {
            if (compare(l.get(i - 1), l.get(i)) > 0) return false;
          }
          return true;
        }),
        CelFunctionBinding.from("list_sum", List.class, KubeCel::sum),
        CelFunctionBinding.from("list_min", List.class, l -> extreme(l, -1)),
        CelFunctionBinding.from("list_max", List.class, l -> extreme(l, 1)),
        CelFunctionBinding.from("list_index_of", List.class, Object.class, (l, v) -> (long) l.indexOf(v)),
        CelFunctionBinding.from("list_last_index_of", List.class, Object.class, (l, v) -> (long) l.lastIndexOf(v)),
        CelFunctionBinding.from("string_find", String.class, String.class, (s, re) -> {
          Matcher m = Pattern.compile(re).matcher(s);
          return m.find() ? m.group() : "";
        }),
        CelFunctionBinding.from("string_find_all", String.class, String.class, (s, re) -> findAll(s, re, -1)),
        CelFunctionBinding.from("string_find_all_n", List.of(String.class, String.class, Long.class),
            args -> findAll((String) args[0], (String) args[1], (Long) args[2])),
        CelFunctionBinding.from("is_url", String.class, s -> parseUrl(s) != null),
        CelFunctionBinding.from("string_to_url", String.class, s -> require(parseUrl(s), "URL parse error: " + s)),
        CelFunctionBinding.from("url_get_scheme", URI.class, u -> nullToEmpty(u.getScheme())),
        CelFunctionBinding.from("url_get_host", URI.class, u -> u.getPort() < 0 ? hostOf(u, true)
            : hostOf(u, true) + ":" + u.getPort()),
        CelFunctionBinding.from("url_get_hostname", URI.class, u -> hostOf(u, false)),
        CelFunctionBinding.from("url_get_port", URI.class, u -> u.getPort() < 0 ? "" : String.valueOf(u.getPort())),
        CelFunctionBinding.from("url_get_escaped_path", URI.class, u -> nullToEmpty(u.getRawPath())),
        CelFunctionBinding.from("is_ip", String.class, s -> parseIp(s) != null),
        CelFunctionBinding.from("string_to_ip", String.class, s -> require(parseIp(s), "IP Address '" + s
            + "' parse error")),
        CelFunctionBinding.from("ip_family", Ip.class, ip -> ip.address().getAddress().length == 4 ? 4L : 6L),
        CelFunctionBinding.from("ip_is_loopback", Ip.class, ip -> ip.address().isLoopbackAddress()),
        CelFunctionBinding.from("ip_is_unspecified", Ip.class, ip -> ip.address().isAnyLocalAddress()),
        CelFunctionBinding.from("ip_is_link_local_unicast", Ip.class, ip -> ip.address().isLinkLocalAddress()),
        CelFunctionBinding.from("ip_is_global_unicast", Ip.class, ip -> !ip.address().isLoopbackAddress()
            && !ip.address().isAnyLocalAddress() && !ip.address().isLinkLocalAddress()
            && !ip.address().isMulticastAddress()),
        CelFunctionBinding.from("is_cidr", String.class, s -> parseCidr(s) != null),
        CelFunctionBinding.from("string_to_cidr", String.class, s -> require(parseCidr(s), "network address parse "
            + "error during conversion from string: " + s)),
        CelFunctionBinding.from("cidr_contains_ip_string", Cidr.class, String.class, (c, s) ->
            contains(c, require(parseIp(s), "IP Address '" + s + "' parse error").address())),
        CelFunctionBinding.from("cidr_contains_ip_ip", Cidr.class, Ip.class, (c, ip) -> contains(c, ip.address())),
        CelFunctionBinding.from("cidr_contains_cidr_string", Cidr.class, String.class, (c, s) -> contains(c,
            require(parseCidr(s), "network address parse error during conversion from string: " + s))),
        CelFunctionBinding.from("cidr_contains_cidr", Cidr.class, Cidr.class, KubeCel::contains),
        CelFunctionBinding.from("cidr_prefix_length", Cidr.class, c -> (long) c.bits()),
        CelFunctionBinding.from("cidr_ip", Cidr.class, c -> new Ip(c.address().getHostAddress(), c.address())),
        CelFunctionBinding.from("cidr_masked", Cidr.class, KubeCel::masked),
        CelFunctionBinding.from("url_get_query", URI.class, KubeCel::query),
        CelFunctionBinding.from("is_quantity", String.class, s -> parseQuantity(s) != null),
        CelFunctionBinding.from("string_to_quantity", String.class, s -> require(parseQuantity(s),
            "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")),
        CelFunctionBinding.from("quantity_is_integer", Quantity.class, q -> isInteger(q.value())),
        CelFunctionBinding.from("quantity_as_integer", Quantity.class, q -> {
          if (!isInteger(q.value())) throw new IllegalArgumentException("cannot convert value to integer");
          return q.value().longValueExact();
        }),
        CelFunctionBinding.from("quantity_as_float", Quantity.class, q -> q.value().doubleValue()),
        CelFunctionBinding.from("quantity_sign", Quantity.class, q -> (long) q.value().signum()),
        CelFunctionBinding.from("quantity_compare_to", Quantity.class, Quantity.class, (a, c) ->
            (long) a.value().compareTo(c.value())),
        CelFunctionBinding.from("quantity_is_greater_than", Quantity.class, Quantity.class, (a, c) ->
            a.value().compareTo(c.value()) > 0),
        CelFunctionBinding.from("quantity_is_less_than", Quantity.class, Quantity.class, (a, c) ->
            a.value().compareTo(c.value()) < 0),
        CelFunctionBinding.from("quantity_add", Quantity.class, Quantity.class, (a, c) -> quantity(a.value().add(c.value()))),
        CelFunctionBinding.from("quantity_add_int", Quantity.class, Long.class, (a, c) ->
            quantity(a.value().add(BigDecimal.valueOf(c)))),
        CelFunctionBinding.from("quantity_sub", Quantity.class, Quantity.class, (a, c) ->
            quantity(a.value().subtract(c.value()))),
        CelFunctionBinding.from("quantity_sub_int", Quantity.class, Long.class, (a, c) ->
            quantity(a.value().subtract(BigDecimal.valueOf(c)))));
  }

  private static CelFunctionDecl member(String name, String overload, CelType result, CelType... args) {
    return CelFunctionDecl.newFunctionDeclaration(name, CelOverloadDecl.newMemberOverload(overload, result, args));
  }

  private static CelFunctionDecl global(String name, String overload, CelType result, CelType... args) {
    return CelFunctionDecl.newFunctionDeclaration(name, CelOverloadDecl.newGlobalOverload(overload, result, args));
  }

  private static <T> T require(T value, String error) {
    if (value == null) throw new IllegalArgumentException(error);
    return value;
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static int compare(Object a, Object b) {
    if (a instanceof Number x && b instanceof Number y) return Double.compare(x.doubleValue(), y.doubleValue());
    if (a instanceof Comparable c && a.getClass() == b.getClass()) return c.compareTo(b);
    throw new IllegalArgumentException("no such overload: values of different types cannot be ordered");
  }

  private static Object sum(List<?> l) {
    if (l.isEmpty()) return 0L;
    if (l.get(0) instanceof Long) {
      long total = 0;
      for (Object o : l) total = Math.addExact(total, (Long) o);
      return total;
    }
    double total = 0;
    for (Object o : l) total += ((Number) o).doubleValue();
    return total;
  }

  private static Object extreme(List<?> l, int sign) {
    if (l.isEmpty()) throw new IllegalArgumentException("min/max of an empty list");
    Object best = l.get(0);
    for (Object o : l) {
      if (compare(o, best) * sign > 0) best = o;
    }
    return best;
  }

  private static List<String> findAll(String s, String re, long limit) {
    List<String> out = new ArrayList<>();
    Matcher m = Pattern.compile(re).matcher(s);
    while ((limit < 0 || out.size() < limit) && m.find()) out.add(m.group());
    return out;
  }

  /** A URL as Go's url.Parse takes it for isURL: absolute with a scheme, or an absolute path. */
  static URI parseUrl(String s) {
    try {
      URI u = new URI(s);
      if (u.getScheme() == null && !s.startsWith("/")) return null;
      return u;
    } catch (java.net.URISyntaxException e) {
      return null;
    }
  }

  private static String hostOf(URI u, boolean brackets) {
    String host = u.getHost() == null ? "" : u.getHost();
    if (!brackets && host.startsWith("[") && host.endsWith("]")) return host.substring(1, host.length() - 1);
    return host;
  }

  private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

  /** An IPv4 dotted quad (no leading zeros) or an IPv6 address without a zone. */
  static Ip parseIp(String s) {
    if (s == null || s.isEmpty()) return null;
    boolean v4 = IPV4.matcher(s).matches();
    boolean v6 = s.contains(":") && !s.contains("%") && s.matches("[0-9a-fA-F:.]+");
    if (!v4 && !v6) return null;
    try {
      return new Ip(s, InetAddress.getByName(s));
    } catch (java.net.UnknownHostException e) {
      return null;
    }
  }

  static Cidr parseCidr(String s) {
    int slash = s == null ? -1 : s.indexOf('/');
    if (slash < 0) return null;
    Ip ip = parseIp(s.substring(0, slash));
    if (ip == null) return null;
    try {
      int bits = Integer.parseInt(s.substring(slash + 1));
      return bits >= 0 && bits <= ip.address().getAddress().length * 8 ? new Cidr(s, ip.address(), bits) : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** The CIDR with the host bits of its address cleared. */
  private static Cidr masked(Cidr c) {
    byte[] b = c.address().getAddress();
    for (int bit = c.bits(); bit < b.length * 8; bit++) b[bit / 8] &= (byte) ~(0x80 >> (bit % 8));
    try {
      InetAddress a = InetAddress.getByAddress(b);
      return new Cidr(a.getHostAddress() + "/" + c.bits(), a, c.bits());
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException(e.getMessage());
    }
  }

  /** A URL's query as Go's url.Values: each name with its values, decoded. */
  private static java.util.Map<String, List<String>> query(URI u) {
    java.util.Map<String, List<String>> out = new java.util.LinkedHashMap<>();
    String q = u.getRawQuery();
    if (q == null || q.isEmpty()) return out;
    for (String pair : q.split("&")) {
      if (pair.isEmpty()) continue;
      int eq = pair.indexOf('=');
      String k = java.net.URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), java.nio.charset.StandardCharsets.UTF_8);
      String v = eq < 0 ? "" : java.net.URLDecoder.decode(pair.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8);
      out.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
    }
    return out;
  }

  /** Whether {@code o} lies within {@code c} (the same or a longer prefix inside it). */
  static boolean contains(Cidr c, Cidr o) {
    return o.bits() >= c.bits() && contains(c, o.address());
  }

  private static boolean contains(Cidr c, InetAddress a) {
    byte[] net = c.address().getAddress();
    byte[] ip = a.getAddress();
    if (net.length != ip.length) return false;
    for (int bit = 0; bit < c.bits(); bit++) {
      int mask = 0x80 >> (bit % 8);
      if ((net[bit / 8] & mask) != (ip[bit / 8] & mask)) return false;
    }
    return true;
  }

  static Quantity parseQuantity(String s) {
    if (s == null || !Validation.QUANTITY.matcher(s).matches()) return null;
    try {
      return new Quantity(s, io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(
          new io.fabric8.kubernetes.api.model.Quantity(s)));
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static Quantity quantity(BigDecimal v) {
    return new Quantity(v.toPlainString(), v);
  }

  private static boolean isInteger(BigDecimal v) {
    return v.stripTrailingZeros().scale() <= 0 && v.abs().compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) <= 0;
  }
}
