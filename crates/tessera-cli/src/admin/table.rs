//! Lists for people: left-aligned columns under a header, two spaces apart.

/// Renders `rows` under `headers`; every row has as many cells as there are headers.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|header| header.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> =
            cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}", width = *width)).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut text = line(headers.to_vec());
    for row in rows {
        text.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    text
}

/// A list cell: the items joined by commas, or `-` when there are none.
pub fn list(items: &[String]) -> String {
    if items.is_empty() { "-".to_owned() } else { items.join(",") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_as_wide_as_their_widest_cell() {
        let rows = vec![vec!["alice@example.com".to_owned(), "-".to_owned()], vec!["b@x".to_owned(), "Bob".to_owned()]];
        assert_eq!(
            render(&["EMAIL", "NAME"], &rows),
            "EMAIL              NAME\nalice@example.com  -\nb@x                Bob\n"
        );
        assert_eq!(list(&[]), "-");
        assert_eq!(list(&["a".to_owned(), "b".to_owned()]), "a,b");
    }
}
