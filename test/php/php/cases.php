<?php
/**
 * The sessions the PHP tests exchange with Node: the classes and enums they use, the
 * sessions PHP writes (php_cases), the values Node's sessions must read as in PHP
 * (node_cases), and the changes both sides apply (apply_change). test/php/cases.ts holds
 * the JavaScript side under the same names.
 */

enum Suit
{
    case Hearts;
    case Spades;
}

enum Status: string
{
    case Active = 'active';
}

class User
{
    public $name = 'ann';
    protected $role = 'admin';
    private $secret = 1.0;

    public function set(string $name, string $role, float $secret): static
    {
        $this->name = $name;
        $this->role = $role;
        $this->secret = $secret;
        return $this;
    }
}

/** A private property of the same name as its parent's: PHP keeps both. */
class Admin extends User
{
    private $secret = 'own';
    public $level = 3;
}

class Point
{
    public function __construct(public int $x = 1, public ?Point $next = null)
    {
    }
}

/** __serialize() with integer keys: written as O: with i: keys. */
class Packed
{
    public $a = 1;

    public function __serialize(): array
    {
        return [5 => 'x', 'k' => 2, 0 => $this->a];
    }

    public function __unserialize(array $data): void
    {
        $this->a = $data[0];
    }
}

/** The Serializable interface: written as C:, its data opaque. */
class Legacy implements Serializable
{
    public function __construct(public string $v = 'é;}"')
    {
    }

    public function serialize(): string
    {
        return $this->v;
    }

    public function unserialize(string $data): void
    {
        $this->v = $data;
    }
}

/** Sessions as PHP writes them, by name; each is a $_SESSION. */
function php_cases(): array
{
    $c = [];
    $c['strings'] = [
        'plain' => 'hello',
        'empty' => '',
        'multibyte' => 'é ü 漢字 🔑',
        'syntax' => 'a|b;c:"d"{}',
        'controls' => "line\nnext\ttab\r",
        'nul' => "a\0b",
        'clé' => 'multibyte session name',
    ];
    $c['ints'] = [
        'zero' => 0,
        'negative' => -1,
        'answer' => 42,
        'max' => PHP_INT_MAX,
        'min' => PHP_INT_MIN,
        'safe' => 9007199254740991,
        'unsafe' => 9007199254740993,
    ];
    $c['floats'] = [
        'tenth' => 0.1,
        'one' => 1.0,
        'hundred' => 100.0,
        'big' => 1e100,
        'negativeZero' => -0.0,
        'inf' => INF,
        'negativeInf' => -INF,
        'nan' => NAN,
        'tiny' => 5e-324,
        'third' => 1 / 3,
        'e15' => 1e15,
        'e17' => 1e17,
        'small' => 0.00001,
        'twoPow53' => 2.0 ** 53,
        'max' => PHP_FLOAT_MAX,
        'negative' => -2.5,
    ];
    $c['scalars'] = ['yes' => true, 'no' => false, 'nothing' => null];
    $c['arrays'] = [
        'list' => [1, 2, 3],
        'empty' => [],
        'map' => ['a' => 1, 'b' => ['c' => []]],
        'outOfOrder' => [5 => 'a', 2 => 'b', 9 => 'c'],
        'mixed' => ['x' => 1, 0 => 'zero', 'y' => 2],
        'numericStrings' => ['1' => 'int one', '01' => 'string', '-3' => 'negative', '-0' => 'minus zero', '1.5' => 'dotted'],
        'bigKeys' => [PHP_INT_MAX => 'max', PHP_INT_MIN => 'min'],
        'nested' => [[[[['deep']]]]],
        'listOfMaps' => [['id' => 1], ['id' => 2]],
        'proto' => ['__proto__' => ['admin' => true], 'constructor' => 1],
    ];
    $c['user'] = ['user' => ['name' => 'ann', 'roles' => ['admin', 'dev']], 'counter' => 3, 'ratio' => 1.0];
    $std = new stdClass();
    $std->name = 'ann';
    $std->{'1'} = 'numeric property';
    $std->list = [1];
    $c['objects'] = [
        'std' => $std,
        'emptyStd' => new stdClass(),
        'user' => new User(),
        'admin' => new Admin(),
        'point' => new Point(1, new Point(2)),
        'packed' => new Packed(),
        'legacy' => new Legacy(),
        'arrayObject' => new ArrayObject([1, 2]),
        'date' => new DateTimeImmutable('2024-02-29 12:00:00', new DateTimeZone('UTC')),
    ];
    $c['enums'] = [
        'suit' => Suit::Hearts,
        'again' => Suit::Hearts,
        'other' => Suit::Spades,
        'status' => Status::Active,
        'list' => [Suit::Spades, Status::Active],
    ];
    $s = [];
    $s['a'] = 1;
    $s['b'] = &$s['a'];
    $s['float'] = 1.0;
    $s['floatRef'] = &$s['float'];
    $s['arr'] = [1, 2];
    $s['arrRef'] = &$s['arr'];
    $shared = new stdClass();
    $shared->v = 1;
    $s['obj'] = $shared;
    $s['sameObj'] = $shared;
    $s['objRef'] = &$s['obj'];
    $s['nested'] = ['x' => 0.5];
    $s['nested']['y'] = &$s['nested']['x'];
    $self = new stdClass();
    $self->self = $self;
    $s['self'] = $self;
    $s['enum'] = Suit::Hearts;
    $s['enumRef'] = &$s['enum'];
    $c['references'] = $s;
    $c['empty'] = [];
    return $c;
}

/** Sessions only php_serialize can hold: integer session keys. */
function php_serialize_cases(): array
{
    return ['intKeys' => [5 => 'five', 'name' => 'x', 0 => 'zero'], 'list' => ['a', 'b']];
}

/** What the sessions Node writes (test/php/cases.ts, nodeCases) must be in PHP. */
function node_cases(): array
{
    $c = [];
    $c['strings'] = php_cases()['strings'];
    $c['ints'] = [
        'zero' => 0,
        'negative' => -1,
        'answer' => 42,
        'max' => PHP_INT_MAX,
        'min' => PHP_INT_MIN,
        'safe' => 9007199254740991,
        'bigint' => 12,
    ];
    $c['floats'] = [
        'tenth' => 0.1,
        'big' => 1e100,
        'negativeZero' => -0.0,
        'inf' => INF,
        'negativeInf' => -INF,
        'nan' => NAN,
        'tiny' => 5e-324,
        'third' => 1 / 3,
        'half' => 1.5,
        'beyondSafe' => 2.0 ** 60,
    ];
    $c['scalars'] = php_cases()['scalars'];
    $c['arrays'] = [
        'list' => [1, 2, 3],
        'empty' => [],
        'map' => ['a' => 1, 'b' => ['c' => []]],
        'intKeys' => [2 => 'b', 5 => 'a'],
        'numericStrings' => ['1' => 'int one', '01' => 'string', '-3' => 'negative', '-0' => 'minus zero'],
        'sparse' => [0 => 'a', 2 => 'c'],
        'undefinedInList' => [1, null, 3],
        'skipped' => ['kept' => 1],
        'date' => '2024-02-29T12:00:00.000Z',
        'proto' => ['__proto__' => ['admin' => true]],
    ];
    $std = new stdClass();
    $std->{'1'} = 'numeric property';
    $std->name = 'ann';
    $c['objects'] = [
        'std' => $std,
        'user' => (new User())->set('bob', 'dev', 2.5),
        'point' => new Point(1, new Point(2)),
        'legacy' => new Legacy('é;}"'),
    ];
    $c['enums'] = ['suit' => Suit::Hearts, 'again' => Suit::Hearts, 'status' => Status::Active];
    $s = [];
    $s['a'] = ['x' => 1];
    $s['b'] = &$s['a'];
    $o = new stdClass();
    $o->v = 1;
    $s['o1'] = $o;
    $s['o2'] = $o;
    $cycle = new stdClass();
    $cycle->self = $cycle;
    $s['cycle'] = $cycle;
    $c['references'] = $s;
    $c['empty'] = [];
    return $c;
}

/** A change made to a session read from PHP data, as PHP code would make it. */
function apply_change(string $change, array &$s): void
{
    switch ($change) {
        case 'rename':
            $s['user']['name'] = 'bob';
            break;
        case 'add':
            $s['added'] = ['new' => true];
            break;
        case 'remove':
            unset($s['counter']);
            break;
        case 'objectProperty':
            $s['std']->name = 'zoe';
            break;
        case 'appendKey':
            $s['outOfOrder'][7] = 'appended';
            break;
        case 'none':
            break;
        default:
            throw new Error("unknown change $change");
    }
}
