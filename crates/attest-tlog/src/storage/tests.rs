use super::*;

#[test]
fn post_order_positions() {
    // Append leaves and record where each completed node lands.
    let mut range = CompactRange::new();
    let mut pos = 0u64;
    for i in 0..1000u64 {
        range
            .append_with(leaf_hash(&i.to_le_bytes()), |id, _| {
                assert_eq!(node_pos(id), Some(pos), "{id:?}");
                pos += 1;
            })
            .unwrap();
        assert_eq!(node_count(i + 1), pos);
    }
    assert_eq!(node_pos(NodeId::new(63, 2)), None);
}
