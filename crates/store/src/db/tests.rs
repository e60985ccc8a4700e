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
