import SegmentLog

/// Small per-stream state found by comparing the record's source and stream strings with the few streams
/// seen so far (the last one first): records of one stream share their strings' storage, so a comparison
/// is a pointer or word check, cheaper per record than hashing two strings into a `Dictionary`.
struct StreamSlots<Value> {
    private(set) var keys: [StreamKey] = []
    private(set) var values: [Value] = []
    private var last = 0

    /// The slot of the record's stream, if present.
    @inline(__always)
    mutating func slot(source: String, stream: String) -> Int? {
        if last < keys.count, keys[last].stream == stream, keys[last].source == source { return last }
        for index in keys.indices where keys[index].stream == stream && keys[index].source == source {
            last = index
            return index
        }
        return nil
    }

    /// Adds a stream (not present yet) and returns its slot.
    mutating func add(_ key: StreamKey, _ value: Value) -> Int {
        keys.append(key)
        values.append(value)
        last = keys.count - 1
        return last
    }

    subscript(slot: Int) -> Value {
        get { values[slot] }
        set { values[slot] = newValue }
    }

    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        last = 0
    }
}
