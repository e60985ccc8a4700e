use super::*;

#[test]
fn placeholders_number_in_the_order_values_are_bound() {
    let mut q = Sql::new("SELECT * FROM t WHERE a = $1").bind(1i64);
    q.push(" AND b IN (").push_binds(["x", "y"]).push(")");
    q.push(" LIMIT ").push_bind(5i64);
    assert_eq!(
        q.text,
        "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3) LIMIT $4"
    );
    assert_eq!(q.args.len(), 4);
}

#[test]
fn tuples_are_parenthesised_and_separated() {
    let mut q = Sql::new("INSERT INTO t (a, b, c) VALUES ");
    q.push_tuples([1i64, 2], |t, n| {
        t.bind(n).bind("v").raw("NULL");
    });
    assert_eq!(
        q.text,
        "INSERT INTO t (a, b, c) VALUES ($1, $2, NULL), ($3, $4, NULL)"
    );
    assert_eq!(q.args[2], Arg::Int(Some(2)));
}

#[test]
fn like_patterns_escape_wildcards() {
    assert_eq!(like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
}

#[test]
fn sequential_placeholders_become_plain_for_sqlite() {
    use super::exec::positional;
    assert_eq!(
        positional("SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)", 3).as_deref(),
        Some("SELECT * FROM t WHERE a = ? AND b IN (?, ?)")
    );
    // Reused, out of order, or not all bound: left as written.
    assert_eq!(positional("SELECT $1 LIKE $1", 1), None);
    assert_eq!(positional("SELECT $2, $1", 2), None);
    assert_eq!(positional("SELECT $1, $2", 3), None);
    assert_eq!(positional("SELECT 1", 0), None);
    // Quoted text is not a placeholder.
    assert_eq!(
        positional("SELECT '$1 each', $1", 1).as_deref(),
        Some("SELECT '$1 each', ?")
    );
    assert_eq!(positional("SELECT $x", 0), None);
    // Anything that could hide or add a placeholder: left as written.
    assert_eq!(positional("SELECT \"$1\", $1", 1), None);
    assert_eq!(positional("SELECT $1 -- $2", 1), None);
    assert_eq!(positional("SELECT $1 /* $2 */", 1), None);
    assert_eq!(positional("SELECT ?, $1", 1), None);
}
