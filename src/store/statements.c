#include "store/statements.h"

const char *const kunci_sql_text[ST_COUNT] = {
#define KUNCI_SQL_TEXT(name, sql) [ST_##name] = sql,
    KUNCI_SQL_STATEMENTS(KUNCI_SQL_TEXT)
#undef KUNCI_SQL_TEXT
};
